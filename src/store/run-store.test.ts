import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { RunStore } from "./run-store.js";
import type { Trajectory } from "../agent/index.js";

function trajectory(id: string, sampleIndex: number): Trajectory {
  return {
    id,
    taskId: "kc-012",
    envType: "key-chain",
    groupKey: "g1",
    sampleIndex,
    messages: [
      { role: "user", content: "0" },
      { role: "assistant", content: "c" },
    ],
    steps: [{ index: 0, action: { role: "assistant", content: "c" }, observations: [], reward: 1 }],
    segments: [
      { source: "prompt", tokens: [1, 2, 3], lossMask: [0, 0, 0] },
      // Logprobs must survive bit for bit: they are the sampling distribution of the ratio.
      { source: "policy", tokens: [99, 7], logprobs: [-0.1234567890123, -2.5e-9], lossMask: [1, 1], step: 0 },
      { source: "prompt", tokens: [5], lossMask: [0], sequence: 1 },
    ],
    reward: 1,
    success: true,
    evaluation: { turns: [{ passed: true }] },
    termination: "done",
    experienceGuided: false,
    metrics: {},
  };
}

test("run store: trajectories round-trip exactly and are written once", () => {
  const store = new RunStore(join(mkdtempSync(join(tmpdir(), "evolver-store-")), "runs.db"));
  const run = store.createRun("demo", { env: { type: "key-chain" } });
  const original = trajectory("t1", 0);
  store.saveTrajectory(run.id, 0, "train", original);
  store.saveTrajectory(run.id, 0, "train", { ...original, id: "t1-again" }); // same group and sample: ignored
  store.saveTrajectory(run.id, 0, "train", trajectory("t2", 1));
  const stored = store.listTrajectories(run.id, 0, "train");
  assert.equal(stored.length, 2);
  assert.deepEqual(stored[0], original);
  assert.deepEqual(store.getTrajectory("t2").segments[1].logprobs, [-0.1234567890123, -2.5e-9]);
  assert.equal(store.counts(run.id).trajectories, 2);
  store.close();
});

test("run store: runs, phases, metrics, checkpoints and verdicts persist across reopening", () => {
  const path = join(mkdtempSync(join(tmpdir(), "evolver-store-")), "runs.db");
  let store = new RunStore(path);
  const run = store.createRun("demo", { a: 1 });
  store.setIterationPhase(run.id, 0, "rollout");
  store.setIterationPhase(run.id, 0, "done");
  store.setIterationPhase(run.id, 1, "train");
  store.saveMetrics(run.id, 0, { "train/success": 0.25, nan: Number.NaN });
  store.saveCheckpoint(run.id, { iteration: 0, kind: "training", path: "tinker://m/weights/it-0" });
  store.saveTrajectory(run.id, 0, "train", trajectory("t1", 0));
  store.saveVerdicts(run.id, { trajectoryId: "t1", status: "ok", judge: "rule", verdicts: [{ step: 0, label: "GOOD" }], error: null });
  store.close();

  store = new RunStore(path);
  assert.equal(store.getRun(run.id).name, "demo");
  assert.deepEqual(store.getRun(run.id).config, { a: 1 });
  assert.equal(store.lastCompletedIteration(run.id), 0);
  assert.equal(store.iterationPhase(run.id, 1), "train");
  assert.deepEqual(store.listMetrics(run.id), [{ iteration: 0, name: "train/success", value: 0.25 }]);
  assert.equal(store.latestCheckpoint(run.id, "training")?.path, "tinker://m/weights/it-0");
  assert.equal(store.getVerdicts("t1")?.judge, "rule");
  assert.throws(() => store.getRun("nope"), /no run 'nope'.*recent runs: run-/);
  store.close();
});

test("run store: a store written by a newer Evolver is refused, not damaged", () => {
  const path = join(mkdtempSync(join(tmpdir(), "evolver-store-")), "runs.db");
  new RunStore(path).close();
  const raw = new Database(path);
  raw.prepare("INSERT INTO schema_version (version) VALUES (999)").run();
  raw.close();
  assert.throws(() => new RunStore(path), (e: Error & { code?: string }) => e.code === "STORE_SCHEMA" && /999/.test(e.message));
});
