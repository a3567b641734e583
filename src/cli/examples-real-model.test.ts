// The real-model examples (Qwen2.5-7B-Instruct on BFCL-v3 and on AgentEvolver's AppWorld service) are checked by
// `evolver validate` as a user runs it. What this checks: the schema, the environment opening with its options, the
// judge rules against the environment's capabilities, the questioning and navigating sections, the tokenizer and its
// chat template against the rollout context. What it cannot: the servers (validate asks the Tinker-protocol trainer
// what it offers, and none is up here: the test checks that this is the one problem left; the OpenAI-compatible judge
// is not contacted), and Qwen2.5-7B's own tokenizer.json, which the user downloads: the tiny model's tokenizer stands
// in for it (the same Qwen2 chat template, a smaller vocabulary).
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

const trainerDown = /  - trainer\.url: cannot ask http:\/\/127\.0\.0\.1:8000 what it offers/;

test("examples/bfcl-v3-qwen2.5-7b.yaml: what validate refuses is only the trainer server not being up and, as shipped, the tokenizer to download", { timeout: 300_000 }, async () => {
  const config = join(repoRoot, "examples/bfcl-v3-qwen2.5-7b.yaml");
  const [shipped, withTokenizer] = await Promise.all([runEvolverCli(["validate", config]), runEvolverCli(["validate", config, "--set", `policy.tokenizer=${tokenizer}`])]);
  assert.equal(shipped.code, 1);
  assert.match(shipped.stderr, /2 problem\(s\):/);
  assert.match(shipped.stderr, trainerDown);
  assert.match(shipped.stderr, /  - policy\.tokenizer: no tokenizer\.json at '\.evolver\/models\/Qwen2\.5-7B-Instruct\/tokenizer\.json'/);
  assert.equal(withTokenizer.code, 1);
  assert.match(withTokenizer.stderr, /1 problem\(s\):/);
  assert.match(withTokenizer.stderr, trainerDown);
});

test("examples/appworld-qwen2.5-7b.yaml: against an AppWorld-like service only the trainer server is missing; the service being down is named", { timeout: 300_000 }, async () => {
  const config = join(repoRoot, "examples/appworld-qwen2.5-7b.yaml");
  const set = ["--set", `policy.tokenizer=${tokenizer}`];
  const [up, down] = await Promise.all([
    runEvolverCli(["validate", config, ...set, "--set", `env.options.url=${appworld.url}`]),
    runEvolverCli(["validate", config, ...set, "--set", "env.options.url=http://127.0.0.1:9"]),
  ]);
  assert.equal(up.code, 1);
  assert.match(up.stderr, /1 problem\(s\):/);
  assert.match(up.stderr, trainerDown);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /ENV_UNREACHABLE: env service at http:\/\/127\.0\.0\.1:9 unreachable/);
});
