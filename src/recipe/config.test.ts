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
  assert.deepEqual(config.sft, { enabled: false, epochs: 1, tasks: 64, batch_size: 16, learning_rate: 1e-4, experience_drills: 0, answers: "reference", replay_drills: 0, replay_coef: 1 });
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
  assert.equal(parseConfig({ env: { type: "key-chain" }, policy: { base_model: "m" }, sft: { answers: "random" } }).sft.answers, "random");
  assert.throws(() => parseConfig({ env: { type: "key-chain" }, policy: { base_model: "m" }, sft: { answers: "shuffled" } }), /sft\.answers.*(reference|random)/s);
  // replaying drills needs a warm start that makes them
  for (const sft of [{ enabled: false, experience_drills: 10, replay_drills: 4 }, { enabled: true, replay_drills: 4 }]) {
    assert.throws(() => parseConfig({ env: { type: "key-chain" }, policy: { base_model: "m" }, sft }), /sft\.replay_drills.*sft\.enabled: true and sft\.experience_drills > 0/s);
  }
  assert.equal(parseConfig({ env: { type: "key-chain" }, policy: { base_model: "m" }, sft: { enabled: true, experience_drills: 10, replay_drills: 4 } }).sft.replay_drills, 4);
});

test("config: rollout.tool_format and rollout.context default to what evolver eval uses; an unknown strategy is named", () => {
  const config = parseConfig({ env: { type: "key-chain" }, policy: { base_model: "m" } });
  assert.equal(config.rollout.tool_format, "native");
  assert.equal(config.rollout.context, "linear");
  const chosen = parseConfig({ env: { type: "key-chain" }, policy: { base_model: "m" }, rollout: { tool_format: "hermes", context: "sliding-window:4" } });
  assert.deepEqual([chosen.rollout.tool_format, chosen.rollout.context], ["hermes", "sliding-window:4"]);
  assert.throws(
    () => parseConfig({ env: { type: "key-chain" }, policy: { base_model: "m" }, rollout: { tool_format: "xml", context: "summarize" } }),
    (error: Error) => {
      assert.match(error.message, /rollout\.tool_format/);
      assert.match(error.message, /rollout\.context: unknown context strategy 'summarize'; known: linear, linear-no-thinking, sliding-window, self-context-clip/);
      return true;
    },
  );
});

test("config: rollout.context tool-retrieval:K takes a whole K >= 1 and the native tool format; bfcl-v3 takes a toolCount", () => {
  const base = { env: { type: "bfcl-v3", options: { toolCount: 1000, toolSeed: 3 } }, policy: { base_model: "m" } };
  const config = parseConfig({ ...base, rollout: { context: "tool-retrieval:8" } });
  assert.equal(config.rollout.context, "tool-retrieval:8");
  assert.deepEqual(config.env.options, { toolCount: 1000, toolSeed: 3 });
  assert.throws(
    () => parseConfig({ ...base, env: { type: "bfcl-v3", options: { toolCount: 0 } }, rollout: { context: "tool-retrieval:0", tool_format: "hermes" } }),
    (error: Error) => {
      assert.match(error.message, /has 3 problem/);
      assert.match(error.message, /rollout\.context: tool-retrieval needs k >= 1, got 0/);
      assert.match(error.message, /rollout\.tool_format: context tool-retrieval:0 offers the tools it retrieves natively and needs tool_format native, not hermes/);
      assert.match(error.message, /env\.options\.toolCount/);
      return true;
    },
  );
});

test("config: rollout.tool_retrieval.embedder takes navigating's embedder specs, and only with context tool-retrieval", () => {
  const base = { env: { type: "bfcl-v3", options: { toolCount: 1000 } }, policy: { base_model: "m" } };
  assert.equal(parseConfig({ ...base, rollout: { context: "tool-retrieval:8" } }).rollout.tool_retrieval.embedder, "use-lite");
  const remote = parseConfig({ ...base, rollout: { context: "tool-retrieval:8", tool_retrieval: { embedder: "openai:text-embedding-3-small", embedder_base_url: "http://127.0.0.1:8080/v1" } } });
  assert.deepEqual(remote.rollout.tool_retrieval, { embedder: "openai:text-embedding-3-small", embedder_base_url: "http://127.0.0.1:8080/v1" });
  assert.throws(() => parseConfig({ ...base, rollout: { context: "tool-retrieval:8", tool_retrieval: { embedder: "word2vec" } } }), /rollout\.tool_retrieval\.embedder: an embedder is 'use-lite' \(offline\) or 'openai:<model>'/);
  assert.throws(
    () => parseConfig({ ...base, rollout: { tool_retrieval: { embedder: "openai:e" } } }),
    /rollout\.tool_retrieval: rollout\.tool_retrieval is read only by context tool-retrieval:K; this run's context is linear/,
  );
});

test("config: the environment's type and its options are checked with every other problem, against the type's own schema", () => {
  assert.throws(
    () =>
      parseConfig({
        env: { type: "key-chain", options: { length: 9, colour: "red", symbols: 4, train_digits: 6 } },
        policy: { base_model: "m" },
        attribution: { judge: "llm" },
        rollout: { group_size: 0 },
      }),
    (error: Error) => {
      assert.match(error.message, /has 5 problem/);
      assert.match(error.message, /env\.options\.length: Too big/);
      assert.match(error.message, /env\.options: Unrecognized key: "colour"/);
      assert.match(error.message, /env\.options\.train_digits: train_digits must be at most symbols/);
      assert.match(error.message, /attribution\.judge_model: judge llm needs judge_model/);
      assert.match(error.message, /rollout\.group_size/);
      return true;
    },
  );
  assert.throws(() => parseConfig({ env: { type: "bfcl-v3", options: { categories: ["chess"] } }, policy: { base_model: "m" } }), /env\.options\.categories\.0/);
  assert.throws(() => parseConfig({ env: { type: "remote", options: { url: "ftp://x" } }, policy: { base_model: "m" } }), /env\.options\.url: url must be an http\(s\) URL[\s\S]*env\.options\.envType/);
  assert.throws(() => parseConfig({ env: { type: "kee-chain" }, policy: { base_model: "m" } }), /env\.type: unknown environment type 'kee-chain'; known: bfcl-v3, key-chain, remote, module/);
  assert.throws(() => parseConfig({ env: { type: "module" }, policy: { base_model: "m" } }), /env\.path: type module needs path/);
  assert.throws(() => parseConfig({ env: { type: "key-chain", path: "x.mjs" }, policy: { base_model: "m" } }), /env\.path: path is for type module only/);
  // a module's options are its own to check, when it is loaded
  assert.deepEqual(parseConfig({ env: { type: "module", path: "x.mjs", options: { anything: 1 } }, policy: { base_model: "m" } }).env.options, { anything: 1 });
});
