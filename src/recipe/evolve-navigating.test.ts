// The evolve loop with an experience pool, end to end (tiny random model trained on CPU, the offline embedder, a
// data-scarce key-chain whose training chains use digits 0-1 only while held-out chains use 0-3):
// - no leakage: every experience comes from training tasks, and nothing of a held-out task (its id, its prompt)
//   is in the pool, although held-out rollouts read the pool and ran in groups that could have taught something;
// - evaluation reads the pool (guided held-out rollouts) and writes no retrieval or outcome;
// - a run stopped after an iteration and resumed ends with the same pool as an uninterrupted run.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setMaxListeners } from "node:events";
import { KeyChainEnvironment } from "../env/index.js";
import { writeTinyModel } from "../llm/index.js";
import { RunStore, SqliteExperiencePool } from "../store/index.js";
import { parseConfig } from "./config.js";
import { runEvolve } from "./evolve.js";
import { poolPath } from "./navigating-stage.js";

const ITERATIONS = 3;
const dir = mkdtempSync(join(tmpdir(), "evolver-evolve-navigating-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const envOptions = { length: 2, symbols: 4, repeat: 2, train_digits: 2 };

function config(name: string) {
  return parseConfig({
    run: { name, seed: 3, store: join(dir, `${name}.db`), output_dir: join(dir, "runs") },
    env: { type: "key-chain", options: envOptions },
    policy: { base_model: join(dir, "tiny") },
    trainer: { kind: "local", device: "cpu", lora_rank: 0 },
    optimizer: { learning_rate: 1e-3 },
    rollout: { group_size: 4, tasks_per_iteration: 3, max_steps: 2, max_tokens_per_step: 1, temperature: 1.0 },
    attribution: { enabled: false },
    navigating: { enabled: true, k: 2, threshold: 0.3, eta: 0.5 },
    schedule: { iterations: ITERATIONS, eval_every: 1, eval_tasks: 6, eval_k: 4, eval_temperature: 1.0 },
  });
}

function poolOf(runId: string, name: string) {
  const pool = SqliteExperiencePool.open(poolPath(config(name), runId), { mustExist: true });
  try {
    return { experiences: pool.list({ status: "all" }), usage: pool.usage(), retrievals: pool.db.prepare("SELECT * FROM experience_retrievals").all() as { iteration: number; group_key: string }[] };
  } finally {
    pool.close();
  }
}

test("evolve with navigating: only training tasks write the pool, evaluation reads it, a resumed run ends with the same pool", async () => {
  writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 0 });
  const whole = await runEvolve({ config: config("whole"), log: () => undefined });
  const { experiences, retrievals, usage } = poolOf(whole.runId, "whole");
  assert.ok(experiences.length > 0, "the rule extractor found something in three iterations");

  const env = new KeyChainEnvironment(envOptions);
  const train = new Set(await env.listTasks("train"));
  const heldOut = [...(await env.listTasks("test")), ...(await env.listTasks("val"))];
  const store = new RunStore(join(dir, "whole.db"), { create: false });
  const evalTrajectories = [-1, 0, 1, 2].flatMap((iteration) => store.listTrajectories(whole.runId, iteration, "eval"));
  const trainGroups = new Set([0, 1, 2].flatMap((iteration) => store.listTrajectories(whole.runId, iteration, "train").map((t) => t.groupKey)));
  store.close();
  assert.ok(evalTrajectories.some((t) => t.experienceGuided), "held-out rollouts read the pool");
  for (const e of experiences) {
    assert.ok(e.sourceTasks.every((task) => train.has(task)), `experience ${e.id} comes from ${e.sourceTasks}`);
    const text = `${e.whenToUse} ${e.content}`;
    for (const task of heldOut) assert.ok(!text.includes(task), `experience ${e.id} names held-out task ${task}`);
    // Held-out chains use digits 2 and 3, which no training prompt has: their prompts ("2 2", "3 3") never appear.
    assert.doesNotMatch(text, /\b[23] [23]\b/, `experience ${e.id} holds a held-out prompt: ${text}`);
  }
  const evalIds = new Set(evalTrajectories.map((t) => t.id));
  assert.ok(retrievals.every((r) => trainGroups.has(r.group_key)), "only training rollouts record retrievals");
  assert.ok(usage.length > 0);

  // Stopped once iteration 1 is done, then resumed: the same pool, nothing lost, nothing twice.
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  await assert.rejects(
    runEvolve({ config: config("resumed"), signal: controller.signal, log: (line) => line.startsWith(`iteration 2/${ITERATIONS}`) && controller.abort() }),
    /stopped/,
  );
  const runId = new RunStore(join(dir, "resumed.db"), { create: false }).listRuns()[0].id;
  const partial = poolOf(runId, "resumed").experiences;
  await runEvolve({ resume: runId, storePath: join(dir, "resumed.db"), log: () => undefined });
  const resumed = poolOf(runId, "resumed");
  const shape = (list: typeof experiences) => list.map((e) => [e.iteration, e.whenToUse, e.content, e.status, e.sourceTasks]);
  assert.deepEqual(shape(resumed.experiences).slice(0, partial.length), shape(partial), "experiences before the stop are kept as they were");
  assert.deepEqual(shape(resumed.experiences), shape(experiences));
  assert.equal(evalIds.size, evalTrajectories.length);
});
