// schedule.overlap in an evolve run (key-chain, tiny model, real local trainer): the next iteration's rollouts sample
// the weights before this iteration's update while it trains, evaluations still see the weights after it, and a stop
// or an error while those rollouts are under way ends them (none cut short is stored), closes the trainer, leaves no
// unhandled rejection, and a resumed run completes every iteration with each rollout once.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { rolloutError } from "../agent/index.js";
import { writeTinyModel } from "../llm/index.js";
import { RunStore } from "../store/index.js";
import { parseConfig } from "./config.js";
import { runEvolve } from "./evolve.js";
import { trainerPids } from "../cli/test-support/trainer-pids.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-evolve-overlap-"));
after(() => rmSync(dir, { recursive: true, force: true }));
writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 3 });

const GROUP_SIZE = 4;
const TASKS = 4;
const PER_ITERATION = GROUP_SIZE * TASKS;

function config(name: string, overrides: { overlap: boolean; iterations: number; eval_every: number; concurrency?: number }) {
  return parseConfig({
    run: { name, seed: 5, store: join(dir, `${name}.db`), output_dir: join(dir, name) },
    env: { type: "key-chain", options: { length: 3, symbols: 8 } },
    policy: { base_model: join(dir, "tiny") },
    trainer: { kind: "local", device: "cpu", lora_rank: 0 },
    optimizer: { learning_rate: 0.003 },
    // the entropy bonus: every update moves the weights, even where every rollout failed alike (advantages 0)
    loss: { entropy_coeff: 0.1 },
    rollout: { group_size: GROUP_SIZE, tasks_per_iteration: TASKS, max_steps: 3, max_tokens_per_step: 1, concurrency: overrides.concurrency ?? 16 },
    schedule: { iterations: overrides.iterations, eval_every: overrides.eval_every, eval_tasks: 8, overlap: overrides.overlap },
  });
}

/** The bytes of a saved state's weights: `kind` sampler_weights or weights, under the run's one trainer model. */
function weightsOf(name: string, runId: string, kind: "sampler_weights" | "weights", checkpoint: string): Buffer | undefined {
  const root = join(dir, name, runId, "checkpoints");
  const [model] = readdirSync(root);
  const file = join(root, model, kind, checkpoint, "weights.safetensors");
  return existsSync(file) ? readFileSync(file) : undefined;
}

test("overlap: an iteration samples the weights before the previous update, an evaluation the weights after", { timeout: 300_000 }, async () => {
  const overlapped = await runEvolve({ config: config("overlap", { overlap: true, iterations: 4, eval_every: 2 }), log: () => undefined });
  const plain = await runEvolve({ config: config("plain", { overlap: false, iterations: 3, eval_every: 0 }), log: () => undefined });
  const w = (name: string, runId: string) => (kind: "sampler_weights" | "weights", checkpoint: string) => weightsOf(name, runId, kind, checkpoint);
  const o = w("overlap", overlapped.runId);
  const p = w("plain", plain.runId);

  // overlap: iteration k's rollouts sample what iteration k-2's checkpoint holds (the weights before update k-1)
  assert.deepEqual(o("sampler_weights", "it-1"), o("sampler_weights", "it-0"), "iterations 0 and 1 both sample the initial weights");
  for (const k of [2, 3]) {
    assert.deepEqual(o("sampler_weights", `it-${k}`), o("weights", `it-${k - 2}`), `iteration ${k} samples the weights after update ${k - 2}`);
    assert.notDeepEqual(o("sampler_weights", `it-${k}`), o("weights", `it-${k - 1}`), `iteration ${k} does not sample the weights after update ${k - 1}`);
  }
  assert.equal(o("sampler_weights", "it-4"), undefined, "the last iteration starts no next one");
  // evaluations after iterations 1 and 3 (saved as eval-2, eval-4) see the weights after those updates
  assert.deepEqual(o("sampler_weights", "eval-2"), o("weights", "it-1"));
  assert.deepEqual(o("sampler_weights", "eval-4"), o("weights", "it-3"));
  // without overlap: iteration k samples the weights after update k-1
  for (const k of [1, 2]) assert.deepEqual(p("sampler_weights", `it-${k}`), p("weights", `it-${k - 1}`));

  const store = new RunStore(join(dir, "overlap.db"));
  try {
    for (let iteration = 0; iteration < 4; iteration++) {
      assert.equal(store.listTrajectories(overlapped.runId, iteration, "train").length, PER_ITERATION);
      assert.equal(store.iterationPhase(overlapped.runId, iteration), "done");
    }
    assert.deepEqual(store.listCheckpoints(overlapped.runId).map((c) => c.iteration), [0, 1, 2, 3]);
    // the time an iteration waited for rollouts that ran beside the previous update: from iteration 1 on
    const waited = store.listMetrics(overlapped.runId).filter((m) => m.name === "time/rollout_wait").map((m) => m.iteration);
    assert.deepEqual(waited, [1, 2, 3]);
  } finally {
    store.close();
  }
  assert.deepEqual(overlapped.evaluations.map((e) => e.iteration), [-1, 1, 3]);
});


for (const ending of ["stop", "error"] as const) {
  test(`overlap: ${ending === "stop" ? "a stop" : "an error"} while the next iteration's rollouts are under way ends them cleanly, and the run resumes`, { timeout: 300_000 }, async () => {
    const name = `interrupted-${ending}`;
    // two rollouts in flight: the next iteration's rollouts are still under way when the update is done
    const runConfig = config(name, { overlap: true, iterations: 6, eval_every: 0, concurrency: 2 });
    const storePath = runConfig.run.store;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const controller = new AbortController();
    let reader: Database.Database | undefined;
    let caught: { iteration: number; stored: number } | undefined;
    const lines: string[] = [];
    try {
      const run = runEvolve({
        config: runConfig,
        signal: controller.signal,
        log: (line) => {
          lines.push(line);
          // "iteration k/6" follows iteration k-1's checkpoint; iteration k's rollouts started before its update
          const match = /^iteration (\d+)\/6/.exec(line);
          if (!match || caught) return;
          const next = Number(match[1]);
          reader ??= new Database(storePath, { readonly: true });
          const stored = (reader.prepare("SELECT count(*) AS n FROM trajectories WHERE purpose = 'train' AND iteration = ?").get(next) as { n: number }).n;
          if (stored >= PER_ITERATION) return;
          caught = { iteration: next, stored };
          if (ending === "stop") controller.abort();
          else throw new Error("a failure in the loop");
        },
      });
      await assert.rejects(run, ending === "stop" ? /stopped/ : /a failure in the loop/);
    } finally {
      reader?.close();
      process.off("unhandledRejection", onUnhandled);
    }
    assert.ok(caught, `the next iteration's rollouts were never found under way at an iteration's end:\n${lines.join("\n")}`);
    // an unhandled rejection surfaces on a later turn of the event loop
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
    assert.deepEqual(trainerPids(join(dir, name)), [], "the trainer was closed");

    const runId = /^run (\S+)/.exec(lines[0])![1];
    let store = new RunStore(storePath);
    const kept = store.listTrajectories(runId, caught.iteration, "train");
    assert.equal(store.getRun(runId).status, ending === "stop" ? "stopped" : "failed");
    store.close();
    // what was stored is what had finished: no rollout the stop cut short is kept as an error
    assert.ok(kept.length >= caught.stored && kept.length < PER_ITERATION, `${kept.length} of iteration ${caught.iteration}'s rollouts kept`);
    assert.deepEqual(kept.filter((t) => rolloutError(t) !== undefined).map((t) => rolloutError(t)), []);

    const resumed: string[] = [];
    await runEvolve({ resume: runId, storePath, log: (line) => resumed.push(line) });
    // the interrupted iteration's finished rollouts are reused, only the rest sampled
    const said = new RegExp(`train rollouts of iteration ${caught.iteration}: ${kept.length} already in the store, ${PER_ITERATION - kept.length} to run`);
    if (kept.length > 0) assert.match(resumed.join("\n"), said);
    store = new RunStore(storePath);
    try {
      const keptIds = new Map(kept.map((t) => [t.id, JSON.stringify(t)]));
      for (let iteration = 0; iteration < 6; iteration++) {
        const rows = store.listTrajectories(runId, iteration, "train");
        assert.equal(rows.length, PER_ITERATION, `iteration ${iteration}`);
        assert.equal(new Set(rows.map((t) => `${t.groupKey}/${t.sampleIndex}`)).size, PER_ITERATION);
        for (const row of rows) if (keptIds.has(row.id)) assert.equal(JSON.stringify(row), keptIds.get(row.id), "a stored rollout is never rewritten");
      }
      assert.deepEqual(store.listCheckpoints(runId).map((c) => c.iteration), [0, 1, 2, 3, 4, 5]);
      assert.equal(store.getRun(runId).status, "done");
    } finally {
      store.close();
    }
  });
}
