// The real-model examples (Qwen2.5-7B-Instruct on BFCL-v3 and on AgentEvolver's AppWorld service) are checked by
// `evolver validate` as a user runs it. What this checks: the schema, the environment opening with its options, the
// judge rules against the environment's capabilities, the questioning and navigating sections, the tokenizer and its
// chat template against the rollout context. What it cannot: the servers (the Tinker-protocol trainer and the
// OpenAI-compatible judge are not contacted by validate), and Qwen2.5-7B's own tokenizer.json, which the user
// downloads: the tiny model's tokenizer stands in for it (the same Qwen2 chat template, a smaller vocabulary).
// validate of the AppWorld example does contact the env service (it asks for the training split), so an
// AgentEvolver-like service stands in for AppWorld's.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CounterEnvironment } from "../env/test-support/counter-environment.js";
import { startAgentEvolverLikeService, type AgentEvolverLikeService } from "../env/service/test-support/agentevolver-like-service.js";
import { writeTinyModel } from "../llm/index.js";
import { repoRoot, runEvolverCli } from "./test-support/spawn-cli.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-examples-"));
let tokenizer: string;
let appworld: AgentEvolverLikeService;
before(async () => {
  tokenizer = join(writeTinyModel(join(dir, "tiny"), { formats: ["hf"] }).hfDir!, "tokenizer.json");
  appworld = await startAgentEvolverLikeService(new CounterEnvironment(), "appworld");
});
after(async () => {
  await appworld?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("examples/bfcl-v3-qwen2.5-7b.yaml: valid without any server up; as shipped only the tokenizer to download is missing", { timeout: 300_000 }, async () => {
  const config = join(repoRoot, "examples/bfcl-v3-qwen2.5-7b.yaml");
  const [shipped, withTokenizer] = await Promise.all([runEvolverCli(["validate", config]), runEvolverCli(["validate", config, "--set", `policy.tokenizer=${tokenizer}`])]);
  assert.equal(shipped.code, 1);
  assert.match(shipped.stderr, /1 problem\(s\):\n  - policy\.tokenizer: no tokenizer at \.evolver\/models\/Qwen2\.5-7B-Instruct\/tokenizer\.json/);
  assert.equal(withTokenizer.code, 0, withTokenizer.stderr);
  const resolved = JSON.parse(withTokenizer.stdout);
  assert.deepEqual(
    [resolved.trainer.kind, resolved.policy.base_model, resolved.attribution.judge, resolved.questioning.enabled, resolved.questioning.synthesizer, resolved.navigating.enabled, resolved.navigating.extractor],
    ["remote", "Qwen/Qwen2.5-7B-Instruct", "llm", true, "llm", true, "llm"],
  );
});

test("examples/appworld-qwen2.5-7b.yaml: valid against an AppWorld-like service; the service being down is named", { timeout: 300_000 }, async () => {
  const config = join(repoRoot, "examples/appworld-qwen2.5-7b.yaml");
  const set = ["--set", `policy.tokenizer=${tokenizer}`];
  const [up, down] = await Promise.all([
    runEvolverCli(["validate", config, ...set, "--set", `env.options.url=${appworld.url}`]),
    runEvolverCli(["validate", config, ...set, "--set", "env.options.url=http://127.0.0.1:9"]),
  ]);
  assert.equal(up.code, 0, up.stderr);
  const resolved = JSON.parse(up.stdout);
  assert.deepEqual([resolved.env.type, resolved.env.options.envType, resolved.attribution.judge, resolved.navigating.enabled], ["remote", "appworld", "llm", true]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /ENV_UNREACHABLE: env service at http:\/\/127\.0\.0\.1:9 unreachable/);
});
