// Every example a user can run on this machine as shipped (a tiny local model, no server to start) passes
// `evolver validate`, which refuses exactly what a run would: a config that drifts from the schema fails here, not in a
// user's first run. The real-model examples need servers and downloads; examples-real-model.test.ts checks that
// those are all validate asks for.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyModel } from "../llm/index.js";
import { repoRoot, runEvolverCli } from "./test-support/spawn-cli.js";

const REAL_MODEL = new Set(["appworld-qwen2.5-7b.yaml", "bfcl-v3-qwen2.5-7b.yaml"]);

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-examples-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("every local example validates with the tiny model in place of .evolver/models/tiny", { timeout: 300_000 }, async () => {
  const model = writeTinyModel(join(dir, "tiny"), { formats: ["hf", "gguf"] });
  const examples = readdirSync(join(repoRoot, "examples")).filter((f) => f.endsWith(".yaml") && !REAL_MODEL.has(f)).sort();
  assert.ok(examples.includes("ablation-split.yaml") && examples.includes("key-chain.yaml"), examples.join(", "));
  for (const example of examples) {
    // the training-free example prompts an embedded GGUF model; the others train the safetensors one
    const base = example === "training-free.yaml" ? model.ggufPath! : model.hfDir!;
    const result = await runEvolverCli([
      "validate", join(repoRoot, "examples", example),
      "--set", `policy.base_model=${base}`, "--set", `run.store=${join(dir, `${example}.db`)}`,
    ]);
    assert.equal(result.code, 0, `${example}: ${result.stderr}`);
    assert.ok(result.stderr.includes(`${example}: valid`), `${example}: ${result.stderr}`);
  }
});
