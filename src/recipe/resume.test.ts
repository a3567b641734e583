// The resume guarantee, on the real CLI: an evolve run SIGKILLed at several moments (during the initial eval,
// mid-rollout, during a later eval, between saving an update and recording it, right after a checkpoint, at a random
// moment) and resumed each time ends with what an uninterrupted run has: every rollout, verdict, checkpoint and
// metric once. Rows written before a kill are never rewritten, and the rollouts a killed process had finished are
// not sampled again (the resumed process says how many it reused). The killed process's trainer does not outlive it.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { writeTinyModel } from "../llm/index.js";
import { resolvePython } from "../train/index.js";
import { runEvolverCli, startEvolverCli, type CliProcess } from "../cli/test-support/spawn-cli.js";
import { trainerPids } from "../cli/test-support/trainer-pids.js";

const ITERATIONS = 6;
const GROUP_SIZE = 4;
const TASKS_PER_ITERATION = 4;
const EVAL_TASKS = 8;
const TRAIN_PER_ITERATION = GROUP_SIZE * TASKS_PER_ITERATION;
/** eval_every 2 over 6 iterations: before any update, then after iterations 1, 3 and 5. */
const EVAL_ITERATIONS = [-1, 1, 3, 5];

/** The CLI with the Python that has torch, found once here rather than probed again by every launch. */
function startCli(args: string[]): CliProcess {
  return startEvolverCli(args, { env: { ...process.env, EVOLVER_PYTHON: resolvePython() } });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** The store as another process sees it, read-only, while the CLI writes it. */
class StoreReader {
  private db?: Database.Database;
  constructor(private readonly path: string) {}

  /** `query` on the store, or undefined while it does not exist yet or has no tables yet. */
  read<T>(query: (db: Database.Database) => T): T | undefined {
    try {
      if (!this.db) {
        if (!existsSync(this.path)) return undefined;
        this.db = new Database(this.path, { readonly: true, fileMustExist: true });
      }
      return query(this.db);
    } catch {
      this.db?.close();
      this.db = undefined;
      return undefined;
    }
  }

  count(where: string, ...params: unknown[]): number {
    return this.read((db) => (db.prepare(`SELECT count(*) AS n FROM ${where}`).get(...params) as { n: number }).n) ?? 0;
  }

  close(): void {
    this.db?.close();
  }
}

/** Polls `ready` every few ms until it holds; fails with the CLI's output if the CLI exits first. */
async function waitUntil(cli: CliProcess, what: string, ready: () => boolean, timeoutMs = 120_000): Promise<void> {
  let exited = false;
  void cli.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (exited) throw new Error(`the CLI exited before ${what}:\n${cli.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${cli.output()}`);
    await sleep(3);
  }
}

interface Snapshot {
  /** trajectory id → everything the row holds (so a rewrite of any column shows). */
  trajectories: Map<string, string>;
  /** "purpose/iteration" → rows. */
  counts: Map<string, number>;
  verdicts: Map<string, string>;
  checkpoints: Map<number, string>;
}

function snapshot(path: string): Snapshot {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const trajectories = new Map<string, string>();
    const counts = new Map<string, number>();
    for (const row of db.prepare("SELECT * FROM trajectories").all() as Record<string, unknown>[]) {
      const hash = createHash("sha256");
      for (const column of ["iteration", "purpose", "group_key", "sample_index", "created_at", "body_json", "segments_json"]) hash.update(`${row[column]}\u0000`);
      for (const column of ["tokens", "logprobs", "loss_mask"]) hash.update(row[column] as Buffer);
      trajectories.set(row.id as string, hash.digest("hex"));
      const key = `${row.purpose}/${row.iteration}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const verdicts = new Map(
      (db.prepare("SELECT trajectory_id, created_at, verdicts_json FROM verdicts").all() as Record<string, string>[]).map((v) => [
        v.trajectory_id,
        `${v.created_at} ${v.verdicts_json}`,
      ]),
    );
    const checkpoints = new Map(
      (db.prepare("SELECT iteration, path, created_at FROM checkpoints WHERE kind = 'training'").all() as Record<string, string | number>[]).map(
        (c) => [c.iteration as number, `${c.path} ${c.created_at}`],
      ),
    );
    return { trajectories, counts, verdicts, checkpoints };
  } finally {
    db.close();
  }
}

/** The folder of a `tinker://model/weights/name` checkpoint in the trainer's checkpoint folder. */
function checkpointFolder(checkpointDir: string, path: string): string {
  const [model, kind, name] = path.slice("tinker://".length).split("/");
  return join(checkpointDir, model, kind, name);
}

/** meta.json of every saved training state named `name`, under any model id (a restarted trainer gets a new one). */
function savedStates(checkpointDir: string, name: string): { folder: string; uid: string }[] {
  if (!existsSync(checkpointDir)) return [];
  const states: { folder: string; uid: string }[] = [];
  for (const model of readdirSync(checkpointDir)) {
    const meta = join(checkpointDir, model, "weights", name, "meta.json");
    if (existsSync(meta)) states.push({ folder: join(checkpointDir, model, "weights", name), uid: JSON.parse(readFileSync(meta, "utf8")).uid });
  }
  return states;
}

/** What the resumed process said about reusing stored rollouts: "purpose/iteration" → [stored, to run]. */
function reuseLines(output: string): Map<string, [number, number]> {
  const said = new Map<string, [number, number]>();
  for (const m of output.matchAll(/(train|eval) rollouts of iteration (-?\d+): (\d+) already in the store, (\d+) to run/g)) {
    said.set(`${m[1]}/${m[2]}`, [Number(m[3]), Number(m[4])]);
  }
  return said;
}

/** Where the store and the run's files for the shared test below live; the `evolver runs` test reads them too. */
const fixture = { dir: "", store: "", runId: "" };
after(() => {
  if (fixture.dir) rmSync(fixture.dir, { recursive: true, force: true });
});

test("an evolve run SIGKILLed in every phase resumes to the same rows, with nothing lost and nothing done twice", { timeout: 900_000 } /* six CLIs, each starting a trainer (torch takes a minute to import at load 40) */, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-resume-"));
  fixture.dir = dir;
  const model = join(dir, "model");
  writeTinyModel(model);
  const storePath = join(dir, "runs.db");
  const configPath = join(dir, "run.yaml");
  writeFileSync(
    configPath,
    [
      `run: { name: resume-test, seed: 7, output_dir: ${JSON.stringify(join(dir, "out"))} }`,
      "env: { type: key-chain, options: { length: 3, symbols: 8 } }",
      `policy: { base_model: ${JSON.stringify(model)} }`,
      "trainer: { kind: local, device: cpu }",
      "optimizer: { learning_rate: 0.003 }",
      // two rollouts in flight: an iteration's rollouts take long enough to be killed halfway through
      `rollout: { group_size: ${GROUP_SIZE}, tasks_per_iteration: ${TASKS_PER_ITERATION}, max_steps: 3, max_tokens_per_step: 1, concurrency: 2 }`,
      `schedule: { iterations: ${ITERATIONS}, eval_every: 2, eval_tasks: ${EVAL_TASKS} }`,
      "",
    ].join("\n"),
  );
  const reader = new StoreReader(storePath);
  const started: CliProcess[] = [];
  const launch = (args: string[]) => {
    const cli = startCli([...args, "--store", storePath]);
    started.push(cli);
    return cli;
  };
  let checkpointDir = "";
  const metricAt = (name: string, iteration: number) => reader.count("metrics WHERE name = ? AND iteration = ?", name, iteration) > 0;
  const rowsAt = (purpose: string, iteration: number) => reader.count("trajectories WHERE purpose = ? AND iteration = ?", purpose, iteration);

  /** SIGKILL, then: the trainer it started follows it (its stdin closes); the store as the kill left it. */
  const kill = async (cli: CliProcess, label: string, { trainerRunning = true } = {}): Promise<Snapshot> => {
    const trainers = trainerPids(dir);
    // (the check below would pass vacuously if the trainer could not be found)
    if (trainerRunning) assert.equal(trainers.length, 1, `${label}: one trainer runs at the kill`);
    cli.child.kill("SIGKILL");
    const { signal } = await cli.exited;
    const at = snapshot(storePath);
    t.diagnostic(`${label}: rows ${JSON.stringify(Object.fromEntries(at.counts))}, checkpoints [${[...at.checkpoints.keys()]}]`);
    assert.equal(signal, "SIGKILL", `${label}: the CLI ended on its own before the kill:\n${cli.output()}`);
    const deadline = Date.now() + 20_000;
    while (trainerPids(dir).length > 0 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(trainerPids(dir), [], `${label}: the trainer (${trainers.join(", ")}) outlived the killed CLI`);
    return at;
  };
  /** Resumes and checks what the resumed process says: the checkpoint it loads, the rollouts it reuses. */
  const checkResumed = (cli: CliProcess, before: Snapshot, label: string) => {
    const output = cli.output();
    assert.match(output, new RegExp(`resuming ${fixture.runId} after \\d+ of ${ITERATIONS} iterations`), label);
    const last = Math.max(-1, ...before.checkpoints.keys());
    if (last >= 0) assert.match(output, new RegExp(`loaded checkpoint of iteration ${last}: `), `${label}:\n${output}`);
    else assert.doesNotMatch(output, /loaded checkpoint/, label);
    for (const [key, [stored, toRun]] of reuseLines(output)) {
      const expected = key.startsWith("train/") ? TRAIN_PER_ITERATION : EVAL_TASKS;
      assert.equal(stored, before.counts.get(key) ?? 0, `${label}: ${key} reused what the kill left`);
      assert.equal(toRun, expected - stored, `${label}: ${key} samples only the missing rollouts`);
    }
    // every iteration the kill left rollouts of is one the resumed process picked up (and said so)
    for (const [key, n] of before.counts) {
      const [purpose, iteration] = key.split("/");
      const expected = purpose === "train" ? TRAIN_PER_ITERATION : EVAL_TASKS;
      const finished = purpose === "train" ? before.checkpoints.has(Number(iteration)) : evalDone(Number(iteration));
      if (!finished && n < expected) assert.ok(reuseLines(output).has(key), `${label}: ${key} (${n} stored) was picked up:\n${output}`);
    }
  };
  const evalDone = (iteration: number) => metricAt("eval/success", iteration);
  const snapshots: Snapshot[] = [];

  try {
    // 1. killed during the evaluation before any update (iteration -1), once some of its rollouts are stored
    let cli = launch(["evolve", "--config", configPath]);
    await waitUntil(cli, "the first eval rollouts", () => rowsAt("eval", -1) >= 2 && !evalDone(-1));
    fixture.runId = reader.read((db) => (db.prepare("SELECT id FROM runs").get() as { id: string }).id)!;
    checkpointDir = join(dir, "out", fixture.runId, "checkpoints");
    let before = await kill(cli, "kill 1 (initial eval)");
    snapshots.push(before);
    // the store still says running; its lease's process is gone, so readers are told the truth
    assert.match((await runEvolverCli(["runs", "--store", storePath])).stdout, new RegExp(`^${fixture.runId}\\s+interrupted\\s`, "m"), "a killed run shows as interrupted");
    const resume = () => launch(["evolve", "--resume", fixture.runId]);

    // 2. killed halfway through iteration 1's rollouts
    cli = resume();
    await waitUntil(cli, "iteration 1's rollouts", () => rowsAt("train", 1) >= 3);
    checkResumed(cli, before, "resume 1");
    before = await kill(cli, "kill 2 (rollouts)");
    snapshots.push(before);
    assert.ok((before.counts.get("train/1") ?? 0) < TRAIN_PER_ITERATION, "kill 2 landed inside iteration 1's rollouts");

    // 3. killed during the evaluation after iteration 1
    cli = resume();
    await waitUntil(cli, "the eval after iteration 1", () => rowsAt("eval", 1) >= 2 && !evalDone(1));
    checkResumed(cli, before, "resume 2");
    before = await kill(cli, "kill 3 (eval)");
    snapshots.push(before);

    // 4. killed between saving iteration 3's update and recording its checkpoint. That window is a few ms wide,
    // so the kill comes as soon as the saved state appears on disk; if the row made it in meanwhile, it is taken out
    // again, with what followed it, which leaves exactly what a kill inside the window leaves.
    cli = resume();
    await waitUntil(cli, "iteration 3's saved state", () => savedStates(checkpointDir, "it-3").length > 0);
    checkResumed(cli, before, "resume 3");
    await kill(cli, "kill 4 (after saveWeights)");
    const abandoned = savedStates(checkpointDir, "it-3");
    const surgery = new Database(storePath);
    try {
      assert.equal((surgery.prepare("SELECT count(*) AS n FROM metrics WHERE iteration = 3 AND name LIKE 'eval/%'").get() as { n: number }).n, 0);
      surgery.transaction(() => {
        surgery.prepare("DELETE FROM checkpoints WHERE iteration = 3").run();
        surgery.prepare("DELETE FROM metrics WHERE iteration = 3").run();
        surgery.prepare("DELETE FROM trajectories WHERE purpose = 'eval' AND iteration = 3").run();
        surgery.prepare("UPDATE iterations SET phase = 'train', finished_at = NULL WHERE iteration = 3").run();
      })();
    } finally {
      surgery.close();
    }
    before = snapshot(storePath);
    snapshots.push(before);
    assert.equal(before.checkpoints.has(3), false);
    assert.equal(before.counts.get("train/3"), TRAIN_PER_ITERATION);

    // 5. killed right after iteration 4's checkpoint is recorded; the update is redone from iteration 2's
    cli = resume();
    await waitUntil(cli, "iteration 4's checkpoint", () => reader.count("checkpoints WHERE iteration = 4") > 0);
    checkResumed(cli, before, "resume 4");
    assert.match(cli.output(), /train rollouts of iteration 3: 16 already in the store, 0 to run/);
    before = await kill(cli, "kill 5 (after a checkpoint)");
    snapshots.push(before);
    const redone = savedStates(checkpointDir, "it-3");
    assert.equal(redone.length, abandoned.length + 1, "iteration 3's update was redone once");
    const recorded3 = before.checkpoints.get(3)!.split(" ")[0];
    assert.ok(!abandoned.some((s) => s.folder === checkpointFolder(checkpointDir, recorded3)), "the recorded state is the redone one");
    const state4 = savedStates(checkpointDir, "it-4");
    assert.equal(state4.length, 1);

    // 6. killed at a random moment (it may land in start-up, in iteration 5, in the last eval, or after the end)
    cli = resume();
    await waitUntil(cli, "the resumed run's first line", () => cli.output().includes("resuming"));
    const delay = Math.floor(Math.random() * 3000);
    await Promise.race([sleep(delay), cli.exited]);
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      before = await kill(cli, `kill 6 (random, after ${delay} ms)`, { trainerRunning: false });
      snapshots.push(before);
    } else {
      // it finished before the kill (iterations are cheap now): the last resume starts from the finished run
      assert.equal((await cli.exited).code, 0, cli.output());
      before = snapshot(storePath);
    }

    // 7. resumed to the end
    cli = resume();
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.output());
    checkResumed(cli, before, "last resume");
    assert.match(cli.output(), new RegExp(`run ${fixture.runId} done`));
    assert.deepEqual(savedStates(checkpointDir, "it-4"), state4, "iteration 4's update was not redone");
    assert.deepEqual(trainerPids(dir), []);
  } finally {
    reader.close();
    for (const cli of started) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill("SIGKILL");
  }

  const db = new Database(storePath, { readonly: true });
  try {
    const run = db.prepare("SELECT status, error FROM runs WHERE id = ?").get(fixture.runId) as { status: string; error: string | null };
    assert.deepEqual(run, { status: "done", error: null });
    const final = snapshot(storePath);
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      assert.equal(final.counts.get(`train/${iteration}`), TRAIN_PER_ITERATION, `train rollouts of iteration ${iteration}`);
      const groups = db.prepare("SELECT group_key, count(*) AS n, min(sample_index) AS lo, max(sample_index) AS hi FROM trajectories WHERE purpose = 'train' AND iteration = ? GROUP BY group_key").all(iteration) as { n: number; lo: number; hi: number }[];
      assert.deepEqual(groups.map((g) => [g.n, g.lo, g.hi]), Array(TASKS_PER_ITERATION).fill([GROUP_SIZE, 0, GROUP_SIZE - 1]));
      const path = final.checkpoints.get(iteration)?.split(" ")[0];
      assert.ok(path && existsSync(join(checkpointFolder(checkpointDir, path), "meta.json")), `checkpoint of iteration ${iteration}`);
      assert.ok(db.prepare("SELECT 1 FROM metrics WHERE iteration = ? AND name = 'train/reward'").get(iteration), `metrics of iteration ${iteration}`);
      assert.equal((db.prepare("SELECT phase FROM iterations WHERE run_id = ? AND iteration = ?").get(fixture.runId, iteration) as { phase: string }).phase, "done");
    }
    assert.deepEqual([...final.checkpoints.keys()].sort((a, b) => a - b), [...Array(ITERATIONS).keys()]);
    const evalRows = [...final.counts].filter(([key]) => key.startsWith("eval/")).map(([key, n]) => [Number(key.split("/")[1]), n]);
    assert.deepEqual(evalRows.sort((a, b) => a[0] - b[0]), EVAL_ITERATIONS.map((i) => [i, EVAL_TASKS]));
    const evalMetrics = db.prepare("SELECT iteration FROM metrics WHERE name = 'eval/success' ORDER BY iteration").all() as { iteration: number }[];
    assert.deepEqual(evalMetrics.map((m) => m.iteration), EVAL_ITERATIONS);

    // verdicts: one per train trajectory, none for eval
    const trainIds = (db.prepare("SELECT id FROM trajectories WHERE purpose = 'train' ORDER BY id").all() as { id: string }[]).map((t) => t.id);
    assert.deepEqual([...final.verdicts.keys()].sort(), trainIds);

    // nothing stored before a kill was rewritten
    for (const [index, earlier] of snapshots.entries()) {
      for (const [id, row] of earlier.trajectories) assert.equal(final.trajectories.get(id), row, `trajectory ${id} of snapshot ${index + 1}`);
      for (const [id, row] of earlier.verdicts) assert.equal(final.verdicts.get(id), row, `verdicts of ${id} (snapshot ${index + 1})`);
      for (const [iteration, row] of earlier.checkpoints) assert.equal(final.checkpoints.get(iteration), row, `checkpoint ${iteration} (snapshot ${index + 1})`);
    }
  } finally {
    db.close();
  }
  fixture.store = storePath;
});

const runToEnd = (args: string[]) => runEvolverCli(args);

test("evolver runs lists the resumed run; runs show --table prints its counts, every iteration's metrics and its last checkpoint", async (t) => {
  if (!fixture.store) return t.skip("needs the store of the resume test above");
  const missingStore = join(fixture.dir, "no-such.db");
  const [list, show, json, unknown, missing] = await Promise.all([
    runToEnd(["runs", "--store", fixture.store]),
    runToEnd(["runs", "show", fixture.runId, "--store", fixture.store, "--table"]),
    runToEnd(["runs", "show", fixture.runId, "--store", fixture.store, "--json"]),
    runToEnd(["runs", "show", "run-nope", "--store", fixture.store]),
    runToEnd(["runs", "--store", missingStore]),
  ]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${fixture.runId}\\s+done\\s+${ITERATIONS} it\\s+\\S+\\s+resume-test$`, "m"));

  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`run ${fixture.runId} \\(resume-test\\): done`));
  assert.match(show.stdout, new RegExp(`completed iterations: ${ITERATIONS}\\b`));
  const trajectories = ITERATIONS * TRAIN_PER_ITERATION + EVAL_ITERATIONS.length * EVAL_TASKS;
  assert.match(show.stdout, new RegExp(`trajectories ${trajectories}, step verdicts ${ITERATIONS * TRAIN_PER_ITERATION}, checkpoints ${ITERATIONS}\\b`));
  // the metrics table: a header naming the metrics, then one row per iteration (-1 is the eval before any update)
  const lines = show.stdout.split("\n");
  const header = lines.findIndex((line) => /^\s*iter\s/.test(line));
  assert.ok(header >= 0, show.stdout);
  const columns = lines[header].trim().split(/\s+/);
  for (const name of ["train/reward", "train/success", "eval/success", "attribution/judged"]) assert.ok(columns.includes(name), name);
  const rows = lines.slice(header + 1).filter((line) => /^\s*-?\d+\s/.test(line));
  assert.deepEqual(rows.map((row) => Number(row.trim().split(/\s+/)[0])), [-1, ...Array(ITERATIONS).keys()]);
  const reported = JSON.parse(json.stdout) as { run: { status: string }; metrics: { iteration: number; name: string; value: number }[] };
  assert.equal(reported.run.status, "done");
  const judged = reported.metrics.filter((m) => m.name === "attribution/judged").map((m) => [m.iteration, m.value]);
  assert.deepEqual(judged, [...Array(ITERATIONS).keys()].map((i) => [i, TRAIN_PER_ITERATION]));
  assert.match(show.stdout, new RegExp(`latest checkpoint: iteration ${ITERATIONS - 1} training tinker://\\S+/weights/it-${ITERATIONS - 1}`));

  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no run 'run-nope'/);
  assert.match(unknown.stderr, new RegExp(fixture.runId), "the error names the runs the store has");
  assert.doesNotMatch(unknown.stderr, /^\s+at /m, "no stack trace");

  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no run store at .*no-such\.db/);
  assert.equal(existsSync(missingStore), false, "reading runs creates no store");
});
