// The resume guarantee with schedule.overlap, on the real CLI: a run SIGKILLed while iteration n trains and iteration
// n+1's rollouts (started beside that update) are under way leaves n+1's finished rollouts in the store; the resumed run
// redoes iteration n's update, reuses those rollouts, samples only the missing ones, and ends with every rollout,
// verdict and checkpoint once, nothing stored before the kill rewritten. (Exactness against an uninterrupted run is
// not claimed in overlap mode: the missing rollouts are sampled with the weights the resumed run has then.)
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { writeTinyModel } from "../llm/index.js";
import { resolvePython } from "../train/index.js";
import { startEvolverCli } from "../cli/test-support/spawn-cli.js";

const ITERATIONS = 6;
const PER_ITERATION = 16;

const dir = mkdtempSync(join(tmpdir(), "evolver-resume-overlap-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function startCli(args: string[]) {
  return startEvolverCli(args, { env: { ...process.env, EVOLVER_PYTHON: resolvePython() } });
}

/** Every trajectory row's content by id, the recorded checkpoints' iterations, and train rows per iteration. */
function snapshot(path: string) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = new Map<string, string>();
    const counts = new Map<number, number>();
    for (const row of db.prepare("SELECT * FROM trajectories").all() as Record<string, unknown>[]) {
      const hash = createHash("sha256");
      for (const column of ["iteration", "purpose", "group_key", "sample_index", "created_at", "body_json", "segments_json"]) hash.update(`${row[column]}\u0000`);
      for (const column of ["tokens", "logprobs", "loss_mask"]) hash.update(row[column] as Buffer);
      rows.set(row.id as string, hash.digest("hex"));
      if (row.purpose === "train") counts.set(row.iteration as number, (counts.get(row.iteration as number) ?? 0) + 1);
    }
    const checkpoints = (db.prepare("SELECT iteration FROM checkpoints WHERE kind = 'training' ORDER BY iteration").all() as { iteration: number }[]).map((c) => c.iteration);
    const runId = (db.prepare("SELECT id FROM runs").get() as { id: string }).id;
    return { rows, checkpoints, count: (iteration: number) => counts.get(iteration) ?? 0, runId };
  } finally {
    db.close();
  }
}

test("overlap: a run SIGKILLed while the next iteration's rollouts run beside an update resumes with each rollout once", { timeout: 600_000 }, async (t) => {
  const model = join(dir, "model");
  writeTinyModel(model);
  const storePath = join(dir, "runs.db");
  const configPath = join(dir, "run.yaml");
  writeFileSync(
    configPath,
    [
      `run: { name: resume-overlap, seed: 7, output_dir: ${JSON.stringify(join(dir, "out"))} }`,
      "env: { type: key-chain, options: { length: 3, symbols: 8 } }",
      `policy: { base_model: ${JSON.stringify(model)} }`,
      "trainer: { kind: local, device: cpu, lora_rank: 0 }",
      // four updates per iteration: the update lasts long enough for the next rollouts to be caught beside it
      "optimizer: { learning_rate: 0.003, mini_batches: 4 }",
      "rollout: { group_size: 4, tasks_per_iteration: 4, max_steps: 3, max_tokens_per_step: 1, concurrency: 2 }",
      `schedule: { iterations: ${ITERATIONS}, eval_every: 0, overlap: true }`,
      "",
    ].join("\n"),
  );

  const first = startCli(["evolve", "--config", configPath, "--store", storePath]);
  let db: Database.Database | undefined;
  let killedAt: number | undefined;
  try {
    // the moment to kill: some iteration n+1 has stored rollouts while iteration n has no checkpoint yet
    const deadline = Date.now() + 300_000;
    let exited = false;
    void first.exited.then(() => (exited = true));
    while (killedAt === undefined) {
      if (exited) throw new Error(`the run ended before it was caught with rollouts beside an update:\n${first.output()}`);
      if (Date.now() > deadline) throw new Error(`timed out:\n${first.output()}`);
      if (!db && existsSync(storePath)) db = new Database(storePath, { readonly: true });
      try {
        const row = db?.prepare(
          `SELECT t.iteration AS next FROM trajectories t WHERE t.purpose = 'train' AND t.iteration > 0
             AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.kind = 'training' AND c.iteration = t.iteration - 1) LIMIT 1`,
        ).get() as { next: number } | undefined;
        if (row) {
          first.child.kill("SIGKILL");
          killedAt = row.next;
        }
      } catch {
        // the tables are not there yet
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    db?.close();
    if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill("SIGKILL");
  }
  assert.equal((await first.exited).signal, "SIGKILL");
  const before = snapshot(storePath);
  const next = killedAt;
  const stored = before.count(next);
  t.diagnostic(`killed with ${stored} of iteration ${next}'s rollouts stored and checkpoints [${before.checkpoints}]`);
  assert.ok(stored > 0, "iteration n+1 had stored rollouts at the kill");
  assert.ok(!before.checkpoints.includes(next - 1), `iteration ${next - 1}'s checkpoint was not recorded at the kill`);
  const { runId } = before;
  // let the killed run's trainer (its stdin closed) go before the next starts
  await new Promise((resolve) => setTimeout(resolve, 500));

  const resumed = startCli(["evolve", "--resume", runId, "--store", storePath]);
  const { code } = await resumed.exited;
  const output = resumed.output();
  assert.equal(code, 0, output);
  assert.match(output, new RegExp(`loaded checkpoint of iteration ${next - 2}: |resuming ${runId} after 0 of`));
  assert.match(output, new RegExp(`train rollouts of iteration ${next - 1}: ${PER_ITERATION} already in the store, 0 to run`));
  assert.match(output, new RegExp(`train rollouts of iteration ${next}: ${stored} already in the store, ${PER_ITERATION - stored} to run`));

  const final = snapshot(storePath);
  assert.deepEqual(final.checkpoints, [...Array(ITERATIONS).keys()]);
  for (let iteration = 0; iteration < ITERATIONS; iteration++) assert.equal(final.count(iteration), PER_ITERATION, `iteration ${iteration}`);
  for (const [id, row] of before.rows) assert.equal(final.rows.get(id), row, `trajectory ${id} was rewritten`);
  const check = new Database(storePath, { readonly: true });
  try {
    const trainIds = (check.prepare("SELECT id FROM trajectories WHERE purpose = 'train' ORDER BY id").all() as { id: string }[]).map((t) => t.id);
    const verdictIds = (check.prepare("SELECT trajectory_id FROM verdicts ORDER BY trajectory_id").all() as { trajectory_id: string }[]).map((v) => v.trajectory_id);
    assert.deepEqual(verdictIds, trainIds, "one verdict row per train rollout");
    assert.equal((check.prepare("SELECT status FROM runs WHERE id = ?").get(runId) as { status: string }).status, "done");
  } finally {
    check.close();
  }
});
