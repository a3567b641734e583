// Errors are not results, in the loop too. A policy whose context cannot hold the first prompt errors on every
// rollout: the run stops, says why (the first error) and exits non-zero, whether the held-out evaluation or the
// training rollouts meet it first. Rollouts that error in part are counted apart and left out of the update, and a
// step judge that fails is said on the progress line, not only in the stored metrics.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rolloutError } from "../agent/index.js";
import { runEvolverCli } from "../cli/test-support/spawn-cli.js";
import { writeTinyModel } from "../llm/index.js";
import { RunStore } from "../store/index.js";
import { resolvePython } from "../train/index.js";
import { parseConfig } from "./config.js";
import { runEvolve } from "./evolve.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-evolve-errors-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("every rollout errored: the run fails naming the first error, in the evaluation and in training alike", { timeout: 600_000 }, async () => {
  // 48 tokens of context: less than key-chain's first prompt
  const model = writeTinyModel(join(dir, "small-context"), { maxPositions: 48, formats: ["hf"] }).hfDir!;
  const configPath = join(dir, "small.yaml");
  writeFileSync(configPath, [
    "env: { type: key-chain, options: { length: 2, symbols: 4 } }",
    `policy: { base_model: ${JSON.stringify(model)} }`,
    "trainer: { kind: local, device: cpu }",
    "rollout: { group_size: 2, tasks_per_iteration: 2, max_steps: 2, max_tokens_per_step: 1 }",
    "schedule: { iterations: 1, eval_tasks: 2 }",
    "",
  ].join("\n"));
  const env = { ...process.env, EVOLVER_PYTHON: resolvePython() };
  const run = (name: string, ...set: string[]) =>
    runEvolverCli(["evolve", "--config", configPath, "--set", `run.store=${join(dir, `${name}.db`)}`, "--set", `run.output_dir=${join(dir, name)}`, ...set.flatMap((s) => ["--set", s])], { env });
  const [evaluation, training] = await Promise.all([run("eval"), run("train", "schedule.eval_every=0")]);
  const overflow = "model call 0 failed: LLM_CONTEXT_OVERFLOW: \\d+-token prompt in a 48-token context";
  assert.equal(evaluation.code, 1, evaluation.stdout + evaluation.stderr);
  assert.match(evaluation.stderr, new RegExp(`ROLLOUTS_ALL_ERRORED: every rollout of the held-out evaluation before training errored \\(\\d+\\); the first: ${overflow}$`, "m"));
  assert.equal(training.code, 1, training.stdout + training.stderr);
  assert.match(training.stderr, new RegExp(`ROLLOUTS_ALL_ERRORED: every train rollout of iteration 0 errored \\(4\\); the first: ${overflow}$`, "m"));
  for (const name of ["eval", "train"]) {
    const store = new RunStore(join(dir, `${name}.db`));
    try {
      const [stored] = store.listRuns();
      assert.equal(store.effectiveStatus(stored.id), "failed");
      assert.match(stored.error!, /ROLLOUTS_ALL_ERRORED/);
    } finally {
      store.close();
    }
  }
});

test("errored rollouts are counted, stored and left out of the update; a failing LLM judge shows on the progress line", { timeout: 600_000 }, async () => {
  const model = writeTinyModel(join(dir, "model"), { formats: ["hf"] }).hfDir!;
  // An environment whose steps fail on odd tasks, and that reports no step rewards (so the judge is an LLM's).
  const envPath = join(dir, "flaky-env.mjs");
  writeFileSync(envPath, `export default () => ({
    name: "flaky",
    listTasks: async (split) => split === "train" ? ["t0", "t1", "t2", "t3"] : [],
    profile: async () => ({ name: "flaky", entities: [] }),
    create: async (taskId) => ({
      taskId,
      initial: { messages: [{ role: "user", content: "Say anything." }], tools: [] },
      async step() { if (taskId.endsWith("1") || taskId.endsWith("3")) throw new Error("the tool crashed"); return { observations: [], done: true }; },
      evaluate: async () => ({ score: 1, success: true, details: {} }),
      release: async () => {},
    }),
  });\n`);
  // A judge that never answers in JSON.
  const judge = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "j", object: "chat.completion", created: 0, model: "judge", choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "All steps look fine to me." } }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    });
  });
  await new Promise<void>((resolve) => judge.listen(0, "127.0.0.1", resolve));
  try {
    const config = parseConfig({
      run: { store: join(dir, "flaky.db"), output_dir: join(dir, "flaky") },
      env: { type: "module", path: envPath },
      policy: { base_model: model },
      trainer: { kind: "local", device: "cpu" },
      rollout: { group_size: 2, tasks_per_iteration: 4, max_steps: 1, max_tokens_per_step: 2 },
      attribution: { judge: "llm", judge_model: "openai:judge", judge_base_url: `http://127.0.0.1:${(judge.address() as AddressInfo).port}/v1` },
      schedule: { iterations: 1, eval_every: 0 },
    });
    const lines: string[] = [];
    const previousKey = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = "test";
    const result = await runEvolve({ config, log: (line) => lines.push(line) }).finally(() => {
      if (previousKey === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = previousKey;
    });
    const progress = lines.find((line) => line.startsWith("iteration 1/1"));
    assert.ok(progress, lines.join("\n"));
    // 8 rollouts, of which the 4 of t1 and t3 errored; the other 4 were judged, and the judge failed on each
    assert.match(progress, /errored 4\/8/);
    assert.match(progress, /judge failed 4\/4 \(GRPO for those\)/);
    const store = new RunStore(join(dir, "flaky.db"));
    try {
      const trajectories = store.listTrajectories(result.runId, 0, "train");
      assert.equal(trajectories.length, 8, "errored rollouts are stored too");
      const errored = trajectories.filter((t) => rolloutError(t) !== undefined);
      assert.deepEqual([...new Set(errored.map((t) => t.taskId))].sort(), ["t1", "t3"]);
      for (const t of errored) {
        assert.match(t.error!, /environment step 0 failed: ENV_MODULE_ERROR|the tool crashed/);
        assert.equal(store.getVerdicts(t.id), undefined, "an errored rollout is not judged");
      }
      const metrics = Object.fromEntries(store.listMetrics(result.runId).map((m) => [m.name, m.value]));
      assert.equal(metrics["train/errored"], 4);
      assert.equal(metrics["train/rollouts"], 8);
      assert.equal(metrics["train/trajectories"], 4, "only results are trained on");
      assert.equal(metrics["attribution/fallbacks"], 4);
    } finally {
      store.close();
    }
  } finally {
    judge.close();
  }
});
