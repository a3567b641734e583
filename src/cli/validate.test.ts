// `evolver validate` refuses exactly what a run would refuse, with the same words, and prints the config resolved as
// the run would store it (the judge the environment's capabilities allow).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyModel } from "../llm/index.js";
import { runEvolverCli } from "./test-support/spawn-cli.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-validate-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("evolver validate: the default judge is resolved from the environment; where it cannot work, validate and evolve refuse alike", { timeout: 300_000 }, async () => {
  const model = writeTinyModel(join(dir, "model"), { formats: ["hf"] }).hfDir!;
  const write = (name: string, env: string) => {
    const path = join(dir, name);
    writeFileSync(path, `env: { type: ${env} }\npolicy: { base_model: ${JSON.stringify(model)} }\nrun: { store: ${JSON.stringify(join(dir, `${name}.db`))} }\n`);
    return path;
  };
  const keyChain = write("key-chain.yaml", "key-chain");
  const bfcl = write("bfcl.yaml", "bfcl-v3");
  const [valid, refused, evolveRefused, turnedOff, asEvolve, both] = await Promise.all([
    runEvolverCli(["validate", keyChain]),
    runEvolverCli(["validate", bfcl]),
    runEvolverCli(["evolve", "--config", bfcl]),
    runEvolverCli(["validate", bfcl, "--set", "attribution.enabled=false"]),
    // the evolve command's own options, validated as they stand
    runEvolverCli(["validate", "--config", keyChain]),
    runEvolverCli(["validate", keyChain, "--config", bfcl]),
  ]);
  assert.equal(asEvolve.code, 0, asEvolve.stderr);
  assert.equal(asEvolve.stdout, valid.stdout);
  assert.equal(both.code, 2, "two configs: which one?");
  assert.match(both.stderr, /usage: evolver validate/);
  assert.equal(valid.code, 0, valid.stderr);
  const resolved = JSON.parse(valid.stdout);
  assert.equal(resolved.attribution.judge, "rule");
  assert.deepEqual([resolved.rollout.tool_format, resolved.rollout.context], ["native", "linear"]);
  assert.match(valid.stderr, /key-chain\.yaml: valid/);

  assert.equal(refused.code, 1);
  const problem = /CONFIG_INVALID: the run cannot start; 1 problem\(s\):\n  - attribution\.judge: the default judge \(rule\) reads per-step rewards, and bfcl-v3 reports none: .*attribution\.judge: llm.*attribution\.enabled: false/;
  assert.match(refused.stderr, problem);
  assert.equal(evolveRefused.code, 1);
  assert.equal(evolveRefused.stderr.replace("evolver evolve: ", ""), refused.stderr.replace("evolver validate: ", ""), "the same refusal, word for word");
  assert.equal(existsSync(join(dir, "bfcl.yaml.db")), false, "a config that cannot run leaves no store behind");

  assert.equal(turnedOff.code, 0, turnedOff.stderr);
  assert.equal(JSON.parse(turnedOff.stdout).attribution.judge, undefined);
});
