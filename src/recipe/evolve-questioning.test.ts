// Self-questioning in the loop, on key-chain with data-scarce seed tasks (train_digits): a synthesis round before
// the first iteration and one at every refresh, stored whole in the run's pool; a resumed run redoes none of them;
// held-out tasks are never in the pool, and every accepted task replays to success.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyChainEnvironment } from "../env/index.js";
import { replaySolution, type Exploration } from "../evolve/questioning/index.js";
import { writeTinyModel } from "../llm/index.js";
import { RunStore, TaskPool } from "../store/index.js";
import { resolvePython } from "../train/index.js";
import { parseConfig } from "./config.js";
import { runEvolve } from "./evolve.js";
import { prepareRun } from "./prepare.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-evolve-questioning-"));
  process.env.EVOLVER_PYTHON ??= resolvePython();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const options = { length: 2, symbols: 4, train_digits: 2, repeat: 2 };

function config(model: string, overrides: Record<string, unknown> = {}) {
  return parseConfig({
    run: { name: "q", store: join(dir, "runs.db"), output_dir: join(dir, "runs"), seed: 1 },
    env: { type: "key-chain", options },
    policy: { base_model: model },
    trainer: { kind: "local", device: "cpu" },
    rollout: { group_size: 2, tasks_per_iteration: 4, max_steps: 2, max_tokens_per_step: 1, concurrency: 8 },
    attribution: { enabled: false },
    questioning: { enabled: true, n: 12, max_steps: 2, refresh_every: 1, synthetic_ratio: 0.5, embedder: "none", ...overrides },
    schedule: { iterations: 2, eval_every: 0 },
  });
}

test("evolve with questioning: a round per refresh in the run's pool, never redone on resume, never a held-out task", { timeout: 600_000 }, async () => {
  const model = writeTinyModel(join(dir, "model"), { formats: ["hf"] }).hfDir!;
  const lines: string[] = [];
  const result = await runEvolve({ config: config(model), log: (line) => lines.push(line) });
  const store = new RunStore(join(dir, "runs.db"));
  try {
    const pool = new TaskPool(store.db);
    const rounds = pool.rounds(result.runId);
    assert.deepEqual(rounds.map((r) => r.round), ["it-0", "it-1"]);
    for (const { report } of rounds) assert.equal(report.counts.explored, 12);
    assert.equal(lines.filter((l) => l.startsWith("questioning: explored 12")).length, 2, lines.join("\n"));
    const env = new KeyChainEnvironment(options);
    const heldOut = new Set([...(await env.listTasks("val")), ...(await env.listTasks("test"))].map((id) => id.slice(3)));
    for (const task of pool.list(result.runId, { status: "accepted" })) {
      assert.deepEqual(await replaySolution(env, task.id, task.spec), { ok: true });
      const digits = (task.spec.setup as { digits: number[] }).digits.join("");
      assert.ok(!heldOut.has(digits), `held-out chain ${digits} in the pool`);
      assert.ok(pool.exploration(result.runId, task.explorationId), "provenance: the exploration is stored");
    }
    // Every train rollout is of a seed task or of an accepted synthetic task; the evaluation split is untouched.
    const accepted = new Set(pool.list(result.runId, { status: "accepted" }).map((t) => t.id));
    const seeds = new Set(await env.listTasks("train"));
    for (const iteration of [0, 1]) {
      for (const t of store.listTrajectories(result.runId, iteration, "train")) assert.ok(seeds.has(t.taskId) || accepted.has(t.taskId), t.taskId);
    }
  } finally {
    store.close();
  }
  // Resume of a finished run: no round is explored again.
  const again: string[] = [];
  await runEvolve({ resume: result.runId, storePath: join(dir, "runs.db"), log: (line) => again.push(line) });
  assert.equal(again.filter((l) => l.startsWith("questioning:")).length, 0, again.join("\n"));
});

test("two runs with questioning from one seed explore, synthesize and roll out the same (no run id in what seeds them)", { timeout: 600_000 }, async () => {
  const model = writeTinyModel(join(dir, "model-repeat"), { formats: ["hf"] }).hfDir!;
  const runs = [];
  for (const name of ["first", "second"]) {
    const store = join(dir, `repeat-${name}.db`);
    const base = config(model);
    runs.push({ store, runId: (await runEvolve({ config: { ...base, run: { ...base.run, store } }, log: () => undefined })).runId });
  }
  const seen = runs.map(({ store: path, runId }) => {
    const store = new RunStore(path);
    try {
      const pool = new TaskPool(store.db);
      const tasks = pool.list(runId).map((t) => ({ id: t.id.slice(t.id.indexOf("it-")), status: t.status, spec: t.spec }));
      // What each exploration did, by round, entity and index (the ids' tail), whatever prefix the ids carry.
      const explored = (store.db.prepare("SELECT id, body_json FROM explorations WHERE pool = ?").all(runId) as { id: string; body_json: string }[])
        .map(({ id, body_json }) => `${id.slice(id.indexOf("it-"))}: ${(JSON.parse(body_json) as Exploration).steps.map((step) => String(step.action.content)).join("|")}`)
        .sort();
      const rollouts = [0, 1].flatMap((iteration) =>
        store.listTrajectories(runId, iteration, "train").map((t) => `${t.taskId}#${t.sampleIndex}: ${t.steps.map((step) => step.action.content).join("|")}`),
      );
      return { explored, tasks, rollouts: rollouts.sort() };
    } finally {
      store.close();
    }
  });
  assert.equal(seen[0].explored.length, 24, "12 explorations per round, two rounds");
  assert.deepEqual(seen[1].explored, seen[0].explored);
  assert.deepEqual(seen[1].tasks, seen[0].tasks);
  assert.deepEqual(seen[1].rollouts, seen[0].rollouts);
});

test("validate refuses questioning an environment cannot do, naming the key", async () => {
  const model = writeTinyModel(join(dir, "model2"), { formats: ["hf"] }).hfDir!;
  await assert.rejects(prepareRun(config(model, { entities: ["door"] })), /questioning.entities: the profile has no door; it has lock/);
  await assert.rejects(prepareRun(config(model, { profile: join(dir, "missing.yaml") })), /questioning.profile: cannot read profile/);
  assert.throws(() => config(model, { synthesizer: "llm" }), /questioning.synthesizer_model: synthesizer llm needs synthesizer_model/);
});
