import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, parseConfig } from "./config.js";

test("config: defaults fill in everything but the environment and the policy", () => {
  const config = parseConfig({ env: { type: "key-chain" }, policy: { base_model: "models/tiny" } });
  assert.equal(config.rollout.group_size, 8);
  assert.equal(config.trainer.kind, "local");
  assert.equal(config.attribution.enabled, true);
  assert.equal(config.loss.dual_clip_c, 3);
  assert.equal(config.run.store, ".evolver/runs.db");
});

test("config: every problem is reported at once, unknown keys included", () => {
  assert.throws(
    () => parseConfig({ env: {}, policy: { base_model: "x" }, rollout: { group_size: 0, colour: "red" }, trainer: { kind: "gpu-farm" } }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "CONFIG_INVALID");
      assert.match(error.message, /env\.type/);
      assert.match(error.message, /rollout\.group_size/);
      assert.match(error.message, /colour/);
      assert.match(error.message, /trainer\.kind/);
      return true;
    },
  );
});

test("config: YAML file plus dotted overrides; a missing file is named", () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-config-"));
  const path = join(dir, "run.yaml");
  writeFileSync(path, "env:\n  type: key-chain\npolicy:\n  base_model: m\nrollout:\n  group_size: 4\n");
  const config = loadConfig(path, ["rollout.group_size=6", "attribution.enabled=false", "run.name=demo"]);
  assert.equal(config.rollout.group_size, 6);
  assert.equal(config.attribution.enabled, false);
  assert.equal(config.run.name, "demo");
  assert.throws(() => loadConfig(join(dir, "missing.yaml")), /cannot read config .*missing\.yaml: ENOENT/);
  writeFileSync(path, "env: [unclosed");
  assert.throws(() => loadConfig(path), /not valid YAML/);
  assert.throws(() => loadConfig(path, ["novalue"]), /CONFIG|YAML|key\.path=value/);
});

test("config: the SFT warm start is off by default, with documented defaults; its section is strict", () => {
  const config = parseConfig({ env: { type: "bfcl-v3" }, policy: { base_model: "m" } });
  assert.deepEqual(config.sft, { enabled: false, epochs: 1, tasks: 64, batch_size: 16, learning_rate: 1e-4 });
  const on = parseConfig({ env: { type: "bfcl-v3" }, policy: { base_model: "m" }, sft: { enabled: true, epochs: 3 } });
  assert.equal(on.sft.enabled, true);
  assert.equal(on.sft.epochs, 3);
  assert.equal(on.sft.batch_size, 16);
  assert.throws(
    () => parseConfig({ env: { type: "bfcl-v3" }, policy: { base_model: "m" }, sft: { epochs: 0, batch_size: 2.5, learning_rate: -1, warmup: 10 } }),
    (error: Error) => {
      for (const problem of [/sft\.epochs/, /sft\.batch_size/, /sft\.learning_rate/, /warmup/]) assert.match(error.message, problem);
      return true;
    },
  );
});
