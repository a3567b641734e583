// `evolver runs show` and `evolver runs audit` on stores written the way a run writes them. (The real run, killed and
// resumed, is shown by src/recipe/resume.test.ts; the dashboard reads the same summaries.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunStore } from "../store/index.js";
import { saveLabels, syntheticConfig, syntheticTrajectory, writeSyntheticRun } from "../web/test-support/synthetic-run.js";
import { captureCli } from "./test-support/capture-cli.js";
import { runEvolverCli } from "./test-support/spawn-cli.js";

const noStackTrace = (stderr: string) => assert.doesNotMatch(stderr, /^\s+at /m, `no stack trace:\n${stderr}`);

test("runs audit: every judged step with its verdict, reason and the advantage the update gave it", { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-runs-audit-"));
  const path = join(dir, "runs.db");
  const store = new RunStore(path);
  const run = store.createRun("audit", syntheticConfig({ attribution: { alpha: 0.5 } }));
  const steps = [
    { action: "A", observation: "digit 4" },
    { action: "B", observation: "digit 9" },
  ];
  const good = syntheticTrajectory({ id: "good", taskId: "kc-1", groupKey: "g", sampleIndex: 0, reward: 1, steps });
  const bad = syntheticTrajectory({ id: "bad", taskId: "kc-1", groupKey: "g", sampleIndex: 1, reward: 0, steps });
  // An errored rollout of the same group was left out of the update: it must not shift the others' advantages.
  const errored = syntheticTrajectory({ id: "errored", taskId: "kc-1", groupKey: "g", sampleIndex: 2, reward: 0, steps: steps.slice(0, 1), termination: "error" });
  for (const t of [good, bad, errored]) store.saveTrajectory(run.id, 0, "train", t);
  saveLabels(store, run.id, good, ["GOOD", "GOOD"]);
  saveLabels(store, run.id, bad, ["BAD", "BAD"]);
  store.close();

  const md = await captureCli(["runs", "audit", run.id, "--store", path]);
  const jsonl = await captureCli(["runs", "audit", run.id, "--store", path, "--format", "jsonl"]);
  const one = await captureCli(["runs", "audit", run.id, "--store", path, "--iteration", "7"]);
  const missing = await captureCli(["runs", "audit", "run-nope", "--store", path]);
  const badFormat = await captureCli(["runs", "audit", run.id, "--store", path, "--format", "csv"]);
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const entries = jsonl.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(entries.map((e) => e.trajectoryId), ["good", "bad"]);
  // ADCA-GRPO, alpha 0.5. Step labels +1 +1 -1 -1 z-score to +1 +1 -1 -1; outcomes 1, 0 to +1, -1. Combined per step,
  // outcome on the last step: good [0.5, 0.5 + 1], bad [-0.5, -0.5 - 1]; suffix sums: good [2, 1.5], bad [-2, -1.5].
  // (Counting the errored rollout's outcome 0 would have made the outcomes' z-scores +1.41, -0.71.)
  assert.deepEqual(entries[0].steps.map((s: { advantage: number }) => s.advantage), [2, 1.5]);
  assert.deepEqual(entries[1].steps.map((s: { advantage: number }) => s.advantage), [-2, -1.5]);
  assert.deepEqual(entries[1].steps.map((s: { label: string; reason: string }) => [s.label, s.reason]), [["BAD", "step 0 was wrong"], ["BAD", "step 1 was wrong"]]);
  assert.equal(entries[0].steps[1].observationExcerpt, "[user] digit 9");
  assert.equal(entries[0].iteration, 0);

  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /# Trajectory good \(task kc-1\)[\s\S]*## Step 0: \*\*GOOD\*\*, advantage 2\.0000[\s\S]*Reason: step 0 was right/);
  assert.match(md.stdout, /# Trajectory bad[\s\S]*## Step 1: \*\*BAD\*\*, advantage -1\.5000/);
  assert.doesNotMatch(md.stdout, /errored/);

  assert.equal(one.code, 0);
  assert.equal(one.stdout, "");
  assert.match(one.stderr, /no judged trajectories in iteration 7/);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /RUN_UNKNOWN: no run 'run-nope'/);
  noStackTrace(missing.stderr);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.stderr, /--format is md or jsonl, got 'csv'/);
});

test("runs show: a readable summary with the key metrics' last values and sparklines; --metrics, --table, --json", { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-runs-show-"));
  const path = join(dir, "runs.db");
  const store = new RunStore(path);
  const id = writeSyntheticRun(store, { iterations: 20, tasksPerIteration: 2, groupSize: 2, evalEvery: 5, evalTasks: 4 });
  const interrupted = store.createRun("killed", syntheticConfig()).id; // stored as running, and no process holds it
  const rewards = store.listMetrics(id).filter((m) => m.name === "train/reward").map((m) => m.value);
  store.close();

  const summary = await captureCli(["runs", "show", id, "--store", path]);
  const chosen = await captureCli(["runs", "show", id, "--store", path, "--metrics", "train/reward,eval/success"]);
  const table = await captureCli(["runs", "show", id, "--store", path, "--table", "--metrics", "train/reward"]);
  const json = await captureCli(["runs", "show", id, "--store", path, "--json"]);
  const unknownMetric = await captureCli(["runs", "show", id, "--store", path, "--metrics", "train/rewrd"]);
  const killed = await captureCli(["runs", "show", interrupted, "--store", path]);
  assert.equal(summary.code, 0, summary.stderr);
  assert.match(summary.stdout, new RegExp(`^run ${id} \\(synthetic\\): done$`, "m"));
  assert.match(summary.stdout, /^key-chain, ADCA-GRPO \(rule judge, alpha 0\.5\), seed 3;/m);
  assert.match(summary.stdout, /^completed iterations: 20 of 20$/m);
  assert.doesNotMatch(summary.stdout, /resume:/, "a finished run has nothing to resume");
  const line = (out: string, name: string) => out.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
  const rewardLine = line(summary.stdout, "train/reward");
  assert.ok(Math.abs(Number(rewardLine.split(/\s+/)[1]) - rewards[rewards.length - 1]) < 1e-4, rewardLine);
  assert.match(rewardLine, /[▁▂▃▄▅▆▇█]{20} 0\.\.19$/);
  assert.match(line(summary.stdout, "eval/success"), /[▁▂▃▄▅▆▇█]{5} -1\.\.19$/);
  assert.equal(line(summary.stdout, "attribution/judged"), "", "only the key metrics by default");

  assert.deepEqual(chosen.stdout.split("\n").filter((l) => /^(train|eval|trainer)\//.test(l)).map((l) => l.split(" ")[0]), ["train/reward", "eval/success"]);
  assert.equal(table.code, 0, table.stderr);
  const rows = table.stdout.split("\n").filter((l) => /^\s*-?\d+\s+\S/.test(l));
  assert.equal(rows.length, 20);
  assert.equal(Number(rows[19].trim().split(/\s+/)[1]).toFixed(4), rewards[19].toFixed(4));
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.run.status, "done");
  assert.equal(parsed.metrics.filter((m: { name: string }) => m.name === "train/reward").length, 20);
  assert.equal(unknownMetric.code, 2);
  assert.match(unknownMetric.stderr, /has no metric train\/rewrd; it has: .*train\/reward/);

  assert.equal(killed.code, 0, killed.stderr);
  assert.match(killed.stdout, /\(killed\): interrupted/);
  assert.match(killed.stdout, new RegExp(`^resume: evolver evolve --resume ${interrupted} --store ${path.replaceAll(".", "\\.")}$`, "m"));
});

test("runs on a file that is not a run store: a clear error, and the file left as it was", { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-runs-foreign-"));
  const text = join(dir, "notes.db");
  writeFileSync(text, "these are my notes, not a database\n".repeat(100));
  // through the real command line once: what a user sees, exit status included
  const list = await runEvolverCli(["runs", "--store", text]);
  const show = await captureCli(["runs", "show", "x", "--store", text]);
  for (const result of [list, show]) {
    assert.equal(result.code, 1);
    assert.match(result.stderr, /STORE_FOREIGN: .*notes\.db is not a run store/);
    noStackTrace(result.stderr);
  }
  assert.equal(readFileSync(text, "utf8"), "these are my notes, not a database\n".repeat(100));
});
