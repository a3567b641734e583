// The custom-environment example (examples/adder-env.mjs, docs/custom-environment.md): it passes the contract of the
// built-in environments, and runs through `evolver validate`, `evolver eval` and a short `evolver evolve` from a
// config that names it. The env service never loads a module a request names.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { loadEnvironmentModule, RemoteEnvironment, startEnvService } from "../env/index.js";
import { runEnvironmentContract } from "../env/test-support/environment-contract.js";
import { writeTinyModel } from "../llm/index.js";
import { resolvePython } from "../train/index.js";
import { repoRoot, runEvolverCli } from "./test-support/spawn-cli.js";

const example = join(repoRoot, "examples/adder-env.mjs");
let dir: string;
let model: ReturnType<typeof writeTinyModel>;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-custom-env-"));
  model = writeTinyModel(join(dir, "model"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

runEnvironmentContract("examples/adder-env.mjs", () => loadEnvironmentModule(example, { max: 9 }));

test("the doc shows the example as it is, and the example is under 50 lines", () => {
  const source = readFileSync(example, "utf8");
  assert.ok(source.split("\n").length <= 50, "examples/adder-env.mjs has more than 50 lines");
  assert.ok(readFileSync(join(repoRoot, "docs/custom-environment.md"), "utf8").includes(source), "docs/custom-environment.md shows another version of the example");
});

test("the example through the CLI: validate (and its refusals), a short eval, a short evolve run", { timeout: 600_000 }, async () => {
  const env = { ...process.env, EVOLVER_PYTHON: resolvePython() };
  const config = ["examples/adder.yaml", "--set", `policy.base_model=${model.hfDir}`];
  const store = join(dir, "runs.db");
  const [valid, badOptions, noModule, evaluated, evolved] = await Promise.all([
    runEvolverCli(["validate", ...config]),
    runEvolverCli(["validate", ...config, "--set", "env.options.max=1"]),
    runEvolverCli(["validate", ...config, "--set", "env.path=examples/no-such-env.mjs"]),
    runEvolverCli([
      "eval", "--env", "module", "--env-path", "examples/adder-env.mjs", "--model", model.ggufPath!, "--split", "test",
      "--tasks", "3", "--k", "1", "--max-steps", "2", "--max-tokens", "8", "--out", join(dir, "eval.json"),
    ]),
    runEvolverCli([
      "evolve", "--config", ...config, "--set", `run.store=${store}`, "--set", `run.output_dir=${join(dir, "runs")}`,
      "--set", "schedule.iterations=1", "--set", "schedule.eval_every=0", "--set", "rollout.group_size=2",
      "--set", "rollout.tasks_per_iteration=2", "--set", "rollout.max_steps=2", "--set", "rollout.max_tokens_per_step=4",
    ], { env }),
  ]);

  assert.equal(valid.code, 0, valid.stderr);
  const resolved = JSON.parse(valid.stdout);
  assert.equal(resolved.env.path, example, "stored absolute, read from the working directory");
  assert.equal(resolved.attribution.judge, "rule", "the example's steps report rewards");

  assert.equal(badOptions.code, 1);
  assert.match(badOptions.stderr, /ENV_BAD_OPTIONS: the environment module .*adder-env\.mjs refused its options: max must be a whole number from 2 to 99, got 1/);
  assert.equal(noModule.code, 1);
  assert.match(noModule.stderr, /ENV_MODULE_NOT_FOUND: no environment module at .*no-such-env\.mjs/);
  for (const refused of [badOptions, noModule]) assert.doesNotMatch(refused.stderr, /^\s+at /m);

  assert.equal(evaluated.code, 0, evaluated.stderr);
  const report = JSON.parse(readFileSync(join(dir, "eval.json"), "utf8"));
  assert.equal(report.env, "adder");
  assert.deepEqual([report.overall.rollouts, report.overall.errored], [3, 0]);

  assert.equal(evolved.code, 0, evolved.stdout + evolved.stderr);
  const db = new Database(store, { readonly: true });
  try {
    assert.equal((db.prepare("SELECT count(*) AS n FROM trajectories WHERE purpose = 'train'").get() as { n: number }).n, 4);
    assert.equal((db.prepare("SELECT count(*) AS n FROM verdicts WHERE judge = 'rule:step-reward'").get() as { n: number }).n, 4);
    assert.equal((db.prepare("SELECT status FROM runs").get() as { status: string }).status, "done");
  } finally {
    db.close();
  }
});

test("the env service does not load modules: 'module' is no environment type of it", async () => {
  const service = await startEnvService({ port: 0 });
  const remote = new RemoteEnvironment({ url: service.url, envType: "module" });
  try {
    await assert.rejects(remote.listTasks("train"), /unknown environment type 'module'/);
  } finally {
    await remote.close();
    await service.close();
  }
});
