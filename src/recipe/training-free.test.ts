// Training-free evolution end to end with the embedded tiny model (random weights, GGUF) as the prompted policy and
// as the semantic advantage's critic: group rollouts, pool edits, held-out success before and after, all in the
// run store like any run. What the tiny model writes is noise; the test checks the mechanics, not that it learns.
// And what validation refuses for trainer.kind none.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeTinyModel } from "../llm/index.js";
import { RunStore, SqliteExperiencePool } from "../store/index.js";
import { parseConfig } from "./config.js";
import { runEvolve } from "./evolve.js";
import { poolPath } from "./navigating-stage.js";
import { prepareRun } from "./prepare.js";
import { nothingLearned } from "./training-free.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-training-free-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function raw(overrides: Record<string, unknown> = {}) {
  return {
    run: { name: "training-free", seed: 1, store: join(dir, "runs.db"), output_dir: join(dir, "runs") },
    env: { type: "key-chain", options: { length: 2, symbols: 4 } },
    policy: { base_model: join(dir, "tiny", "model.gguf") },
    trainer: { kind: "none" },
    rollout: { group_size: 4, tasks_per_iteration: 2, max_steps: 2, max_tokens_per_step: 4, temperature: 1.0, concurrency: 4 },
    navigating: { enabled: true, k: 2, threshold: -1, eta: 0.5 },
    schedule: { iterations: 2, eval_every: 1, eval_tasks: 4, eval_k: 2, eval_temperature: 1.0 },
    ...overrides,
  };
}

test("training-free with the embedded tiny model: held-out success before and after, pool edits, metrics in the run store", async () => {
  writeTinyModel(join(dir, "tiny"), { formats: ["gguf"], seed: 0 });
  const lines: string[] = [];
  const result = await runEvolve({ config: parseConfig(raw()), log: (line) => lines.push(line) });
  assert.deepEqual(result.evaluations.map((e) => e.iteration), [-1, 0, 1]);
  const store = new RunStore(join(dir, "runs.db"), { create: false });
  const run = store.getRun(result.runId);
  assert.equal(run.status, "done");
  const metrics = store.listMetrics(result.runId);
  const named = (name: string) => metrics.filter((m) => m.name === name).map((m) => m.iteration);
  assert.deepEqual(named("eval/success"), [-1, 0, 1]);
  assert.deepEqual(named("navigating/pool_size"), [0, 1]);
  assert.deepEqual(named("train/rollouts"), [0, 1]);
  assert.equal(store.listTrajectories(result.runId, 0, "train").length, 8);
  assert.equal(store.latestCheckpoint(result.runId, "training"), undefined, "nothing is trained");
  store.close();
  // The log counts as its progress lines do: each evaluation follows the iteration it comes after (stored as -1, 0, 1).
  const order = lines.filter((l) => /^(iteration \d|eval )/.test(l)).map((l) => l.replace(/:.*| {2}.*/, ""));
  assert.deepEqual(order, ["eval before training", "iteration 1/2", "eval after 1 iteration", "iteration 2/2", "eval after 2 iterations"]);
  assert.ok(lines.some((l) => /^iteration 2\/2 .* pool \d+ \(\+\d+ ~\d+ -\d+, \d+ groups compared, \d+ invalid\)/.test(l)), lines.join("\n"));
  // Every training group is counted, and a run whose pool got no edit says why.
  const groups = metrics.filter((m) => m.name === "navigating/groups").reduce((sum, m) => sum + m.value, 0);
  assert.equal(groups, 4);
  const edits = metrics.filter((m) => ["navigating/added", "navigating/modified", "navigating/deleted"].includes(m.name)).reduce((sum, m) => sum + m.value, 0);
  assert.equal(lines.some((l) => l.startsWith("nothing was learned")), edits === 0, lines.join("\n"));
  // Every experience the critic added is the semantic advantage's, with its training tasks as provenance.
  const pool = SqliteExperiencePool.open(poolPath(parseConfig(raw()), result.runId), { mustExist: true });
  for (const e of pool.list({ status: "all" })) {
    assert.equal(e.origin, "semantic");
    assert.match(e.extractor, /^semantic:embedded:/);
    assert.ok(e.sourceTasks.length > 0);
  }
  pool.close();
});

test("validation: trainer.kind none needs navigating on, no SFT, no overlap, and a model it can prompt", async () => {
  await assert.rejects(
    prepareRun(parseConfig(raw({ navigating: { enabled: false }, sft: { enabled: true }, policy: { base_model: join(dir, "no-such-folder") }, schedule: { iterations: 2, overlap: true } }))),
    (error: Error) =>
      /navigating\.enabled: trainer\.kind none evolves only the experience pool/.test(error.message) &&
      /sft\.enabled: trainer\.kind none trains nothing/.test(error.message) &&
      /schedule\.overlap: trainer\.kind none has no update to overlap/.test(error.message) &&
      /policy\.base_model: trainer\.kind none prompts a model: openai:<model>, a \.gguf path or hf:…/.test(error.message),
  );
  await assert.rejects(prepareRun(parseConfig(raw({ policy: { base_model: join(dir, "missing.gguf") } }))), /no model file at .*missing\.gguf/);
  // The step-reward judge check is for training; a training-free run on an environment without step rewards is fine.
  const { env } = await prepareRun(parseConfig(raw({ policy: { base_model: "openai:some-model" } })));
  await env.close?.();
});

test("a run whose pool got no edit says why: groups that all scored the same, comparisons without an edit", () => {
  const store = new RunStore(join(dir, "reasons.db"));
  const run = store.createRun("reasons", {});
  store.saveMetrics(run.id, 0, { "navigating/groups": 8, "navigating/uniform": 7, "navigating/uniform_failed": 6, "navigating/compared": 1, "navigating/invalid": 0, "navigating/added": 0 });
  store.saveMetrics(run.id, 1, { "navigating/groups": 8, "navigating/uniform": 6, "navigating/uniform_failed": 6, "navigating/compared": 2, "navigating/invalid": 1, "navigating/added": 0 });
  assert.equal(
    nothingLearned(store, run.id),
    "nothing was learned: the experience pool got no edit in this run. Of its 16 training groups, 13 had rollouts that all scored the same, " +
      "so no better and worse attempt to compare (12 of them all failed); 3 were compared and the critic proposed no usable edit " +
      "(1 of its answers did not fit the schema or failed).",
  );
  store.saveMetrics(run.id, 2, { "navigating/groups": 8, "navigating/compared": 1, "navigating/deleted": 1 });
  assert.equal(nothingLearned(store, run.id), undefined);
  store.close();
});
