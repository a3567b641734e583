// `evolver ablate --quick`, as CI runs it: the mechanics, not the ordering. Every configuration whose mechanisms are
// in this build runs every seed through the evolve recipe to its held-out evaluation after the last iteration, and
// is stored in the one run store; one whose mechanism is not here is reported as not available and runs nothing;
// the table, plot and numbers are written; the same command again reuses every finished run instead of redoing it.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CONFIGURATIONS, MECHANISMS, QUICK_OVERRIDES, mechanismAvailable, missingMechanisms } from "../ablation/index.js";
import { writeTinyModel } from "../llm/index.js";
import { RunStore } from "../store/index.js";
import { repoRoot, runEvolverCli } from "./test-support/spawn-cli.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-ablate-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const SEEDS = 2;

test("evolver ablate --quick: every available configuration × seed completes and is stored; the rest are 'not available'", { timeout: 1_800_000 }, async () => {
  const model = writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 0 }).hfDir!;
  const out = join(dir, "ablation");
  const args = ["ablate", "--config", join(repoRoot, "examples/ablation.yaml"), "--quick", "--seeds", String(SEEDS), "--out", out, "--set", `policy.base_model=${model}`];
  const first = await runEvolverCli(args);
  assert.equal(first.code, 0, first.stderr + first.stdout.slice(-4000));

  const budget = Number(QUICK_OVERRIDES.find((o) => o.startsWith("schedule.iterations="))!.split("=")[1]);
  const numbers = JSON.parse(readFileSync(join(out, "ablation.json"), "utf8"));
  const store = new RunStore(join(out, "runs.db"), { create: false });
  const stored = store.listRuns();
  try {
    for (const configuration of CONFIGURATIONS) {
      const outcome = numbers.outcomes.find((o: { configuration: { name: string } }) => o.configuration.name === configuration.name);
      if (missingMechanisms(configuration).length > 0) {
        assert.equal(outcome.status, "unavailable", configuration.name);
        assert.equal(outcome.runs.length, 0);
        assert.equal(stored.some((r) => r.name.startsWith(`ablation-${configuration.name}-`)), false, "nothing run for it");
        continue;
      }
      assert.equal(outcome.status, "done", `${configuration.name}: ${outcome.reason}`);
      assert.deepEqual(outcome.runs.map((r: { seed: number }) => r.seed), [...Array(SEEDS).keys()]);
      for (const run of outcome.runs as { seed: number; runId: string; points: { iterations: number }[]; trainSuccess: number[] }[]) {
        const record = store.getRun(run.runId);
        assert.equal(record.name, `ablation-${configuration.name}-seed${run.seed}`);
        assert.equal(record.status, "done");
        assert.equal((record.config as { run: { seed: number } }).run.seed, run.seed);
        // what the configuration switched, as the run stored it
        const sections = record.config as Record<string, { enabled?: boolean } | undefined>;
        for (const mechanism of MECHANISMS.filter(mechanismAvailable)) {
          const section = mechanism === "attributing" ? "attribution" : mechanism;
          assert.equal(sections[section]?.enabled, configuration.mechanisms.includes(mechanism), `${record.name}: ${section}.enabled`);
        }
        assert.deepEqual(run.points.map((p) => p.iterations).at(-1), budget, "evaluated after the last iteration");
        assert.equal(run.trainSuccess.length, budget, "training success of every iteration, as stored");
        assert.ok(store.counts(run.runId).trajectories > 0);
      }
    }
  } finally {
    store.close();
  }
  const table = readFileSync(join(out, "ablation.md"), "utf8");
  for (const configuration of CONFIGURATIONS) assert.match(table, new RegExp(`^\\| ${configuration.label.replace("+", "\\+")} \\|`, "m"));
  assert.match(table, /\| training success, mean of the \d+ iterations \|/);
  assert.ok(existsSync(join(out, "ablation.svg")));

  const again = await runEvolverCli(args);
  assert.equal(again.code, 0, again.stderr);
  const runsAfter = new RunStore(join(out, "runs.db"), { create: false });
  try {
    assert.equal(runsAfter.listRuns().length, stored.length, "no run made twice");
  } finally {
    runsAfter.close();
  }
  assert.equal(again.stdout.match(/reusing finished run/g)?.length, stored.length);
});

test("evolver ablate: an unknown configuration is named with the known ones, before anything runs", { timeout: 120_000 }, async () => {
  const result = await runEvolverCli(["ablate", "--config", join(repoRoot, "examples/ablation.yaml"), "--only", "grpo,ppo", "--out", join(dir, "unknown")]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown configuration\(s\) ppo; known: grpo, questioning, navigating, attributing, all/);
  assert.equal(existsSync(join(dir, "unknown", "runs.db")), false);
});

// A confirmatory run must be on seeds no pilot used: --first-seed 3 --seeds 1 runs seed 3 (run.seed and the run's
// name), not seed 0.
test("evolver ablate --first-seed: the seeds counted from it, stored and reported as such", { timeout: 600_000 }, async () => {
  const model = writeTinyModel(join(dir, "tiny-first-seed"), { formats: ["hf"], seed: 0 }).hfDir!;
  const out = join(dir, "first-seed");
  const result = await runEvolverCli(["ablate", "--config", join(repoRoot, "examples/ablation.yaml"), "--quick", "--only", "grpo", "--seeds", "1", "--first-seed", "3", "--out", out, "--set", `policy.base_model=${model}`]);
  assert.equal(result.code, 0, result.stderr + result.stdout.slice(-4000));
  const numbers = JSON.parse(readFileSync(join(out, "ablation.json"), "utf8"));
  assert.deepEqual(numbers.seeds, [3]);
  assert.deepEqual(numbers.outcomes[0].runs.map((r: { seed: number }) => r.seed), [3]);
  const store = new RunStore(join(out, "runs.db"), { create: false });
  try {
    const runs = store.listRuns();
    assert.deepEqual(runs.map((r) => r.name), ["ablation-grpo-seed3"]);
    assert.equal((store.getRun(runs[0].id).config as { run: { seed: number } }).run.seed, 3);
  } finally {
    store.close();
  }
  assert.match(readFileSync(join(out, "ablation.md"), "utf8"), /; seeds 3;/);
});

test("evolver ablate --first-seed: a negative or fractional seed is a usage error, before anything runs", { timeout: 120_000 }, async () => {
  for (const bad of ["-1", "1.5"]) {
    const out = join(dir, `first-seed-bad${bad}`);
    const result = await runEvolverCli(["ablate", "--config", join(repoRoot, "examples/ablation.yaml"), `--first-seed=${bad}`, "--out", out]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`first-seed must be a whole number of at least 0, got ${bad.replace(".", "\\.")}`));
    assert.equal(existsSync(join(out, "runs.db")), false);
  }
});
