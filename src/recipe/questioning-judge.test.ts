// validate (prepareRun) on a remote env service that grades only its own tasks: questioning is refused without
// questioning.judge_model, naming it; with a judge it is accepted, and hindsight is refused (judged tasks have none).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEnvService, type EnvService } from "../env/service/index.js";
import { NotesEnvironment } from "../evolve/questioning/test-support/notes-environment.js";
import { parseConfig } from "./config.js";
import { prepareRun } from "./prepare.js";

let dir: string;
let service: EnvService;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "evolver-questioning-judge-"));
  service = await startEnvService({ port: 0, environments: async () => new NotesEnvironment() });
});
after(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(questioning: Record<string, unknown>) {
  return parseConfig({
    run: { name: "judged", store: join(dir, "runs.db"), output_dir: join(dir, "runs") },
    env: { type: "remote", options: { url: service.url, envType: "notes" } },
    // No model there: validate names that too, and lists every problem at once.
    policy: { base_model: join(dir, "no-model") },
    attribution: { enabled: false },
    questioning: { enabled: true, synthesizer: "llm", synthesizer_model: "openai:gpt-4o-mini", embedder: "none", ...questioning },
  });
}

async function problems(questioning: Record<string, unknown>): Promise<string[]> {
  try {
    const prepared = await prepareRun(config(questioning));
    await prepared.env.close?.();
    return [];
  } catch (error) {
    return ((error as { details?: { problems?: string[] } }).details?.problems ?? [String(error)]).filter((p) => p.startsWith("questioning."));
  }
}

test("validate: a remote service without explorationSetup needs questioning.judge_model; with it, llm synthesis passes and hindsight is refused", { timeout: 120_000 }, async () => {
  const without = await problems({});
  assert.equal(without.length, 1, without.join("\n"));
  assert.match(without[0], /^questioning\.enabled: notes cannot set up an exploration \(no explorationSetup\).*set questioning\.judge_model/);
  assert.deepEqual(await problems({ judge_model: "openai:gpt-4o" }), []);
  const hindsight = await problems({ judge_model: "openai:gpt-4o", synthesizer: "hindsight" });
  assert.deepEqual(hindsight, ["questioning.synthesizer: judged synthetic tasks (questioning.judge_model) have no hindsight; use synthesizer: llm with a synthesizer_model"]);
  assert.throws(() => config({ judge_model: "openai:gpt-4o", judge_threshold: 101 }), /questioning.judge_threshold/);
});
