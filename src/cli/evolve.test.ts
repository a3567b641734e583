// `evolver evolve` on bad input, through the real command line: a clear message naming the problem and the right exit
// status (1 for a bad run or config, 2 for bad usage), never a stack trace. (The run itself, killed and resumed, is
// tested in src/recipe/resume.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { RunStore } from "../store/index.js";
import { holdLease } from "../store/test-support/lease-holder.js";
import { runEvolverCli } from "./test-support/spawn-cli.js";

const evolver = (args: string[]) => runEvolverCli(args);

const noStackTrace = (stderr: string) => assert.doesNotMatch(stderr, /^\s+at /m, `no stack trace:\n${stderr}`);

test("evolver evolve: an unknown run, neither or both of --config and --resume, a config with unknown keys", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-evolve-cli-"));
  try {
    const store = join(dir, "runs.db");
    const badConfig = join(dir, "bad.yaml");
    writeFileSync(
      badConfig,
      [
        "run: { nme: x, seed: 1.5 }",
        "env: { type: key-chain, optons: {} }",
        "rollout: { group_sise: 4, concurrency: 0 }",
        "schedule: { iterations: ten }",
        "extra: 1",
        "",
      ].join("\n"),
    );
    new RunStore(store).close(); // an empty store: the run is what is missing
    const [unknownRun, noStore, neither, both, bad, missing] = await Promise.all([
      evolver(["evolve", "--resume", "nope", "--store", store]),
      evolver(["evolve", "--resume", "nope", "--store", join(dir, "typo.db")]),
      evolver(["evolve"]),
      evolver(["evolve", "--config", badConfig, "--resume", "nope", "--store", store]),
      evolver(["evolve", "--config", badConfig, "--set", "loss.clip_lo=0.1", "--store", store]),
      evolver(["evolve", "--config", join(dir, "missing.yaml"), "--store", store]),
    ]);

    assert.equal(unknownRun.code, 1, unknownRun.stderr);
    assert.match(unknownRun.stderr, /^evolver evolve: RUN_UNKNOWN: no run 'nope' in .*runs\.db \(the store is empty\)$/m);
    noStackTrace(unknownRun.stderr);
    // A mistyped --store is named, and no empty database is left behind in its place.
    assert.equal(noStore.code, 1, noStore.stderr);
    assert.match(noStore.stderr, /^evolver evolve: STORE_NOT_FOUND: no run store at .*typo\.db$/m);
    assert.equal(existsSync(join(dir, "typo.db")), false);

    for (const usage of [neither, both]) {
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /give either --config or --resume\nusage: evolver evolve --config RUN\.yaml .*\| --resume RUN/);
      noStackTrace(usage.stderr);
    }

    // every problem at once, each with its path, in the file and in the overrides alike
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /CONFIG_INVALID: .*bad\.yaml has 9 problem\(s\)/);
    for (const problem of [
      /run: Unrecognized key: "nme"/,
      /run\.seed: .*expected int/,
      /env: Unrecognized key: "optons"/,
      /policy: .*expected object/,
      /rollout: Unrecognized key: "group_sise"/,
      /rollout\.concurrency: Too small/,
      /schedule\.iterations: .*expected number/,
      /loss: Unrecognized key: "clip_lo"/,
      /\(root\): Unrecognized key: "extra"/,
    ]) {
      assert.match(bad.stderr, problem);
    }
    noStackTrace(bad.stderr);
    if (existsSync(store)) {
      const db = new Database(store, { readonly: true });
      assert.equal((db.prepare("SELECT count(*) AS n FROM runs").get() as { n: number }).n, 0, "bad input starts no run");
      db.close();
    }

    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /CONFIG_NOT_FOUND: cannot read config .*missing\.yaml: ENOENT/);
    noStackTrace(missing.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("evolver evolve --resume of a run another process is running is refused; evolver runs shows it running, then interrupted once that process is killed", { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-evolve-lease-"));
  try {
    const store = join(dir, "runs.db");
    const created = new RunStore(store);
    const run = created.createRun("leased", {});
    created.close();
    const holder = await holdLease(store, run.id);
    const [listed, resumed] = await Promise.all([evolver(["runs", "--store", store]), evolver(["evolve", "--resume", run.id, "--store", store])]);
    assert.match(listed.stdout, new RegExp(`^${run.id}\\s+running\\s`, "m"));
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`^evolver evolve: RUN_BUSY: run ${run.id} is already going: pid ${holder.pid} on \\S+ has held it since .*; stop that process first`, "m"));
    noStackTrace(resumed.stderr);
    const after = new RunStore(store);
    try {
      assert.equal(after.getRun(run.id).status, "running", "the refused resume left the run as it was");
      assert.equal(after.lease(run.id)?.pid, holder.pid);
    } finally {
      after.close();
    }

    await holder.kill();
    const [list, show] = await Promise.all([evolver(["runs", "--store", store]), evolver(["runs", "show", run.id, "--store", store])]);
    assert.match(list.stdout, new RegExp(`^${run.id}\\s+interrupted\\s`, "m"));
    assert.match(show.stdout, new RegExp(`run ${run.id} \\(leased\\): interrupted\\nwas run by pid ${holder.pid} on \\S+ since \\S+ \\(gone; evolver evolve --resume goes on\\)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
