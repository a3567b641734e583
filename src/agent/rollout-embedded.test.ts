// End to end with a real model: the tiny random-weight Qwen2 GGUF (writeTinyModel) run by llama.cpp, through the
// model-spec factory, on the real BFCL environment. The model writes noise, so the point is the plumbing: the
// rollout ends cleanly, is graded, and its tokens are exactly what llama.cpp was given and sampled.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BfclEnvironment, KeyChainEnvironment } from "../env/index.js";
import { writeTinyModel, type TokenSampler } from "../llm/index.js";
import { createPolicyModel } from "./model-spec.js";
import { runRollout } from "./rollout.js";
import { runRollouts } from "./rollout-manager.js";
import { sequenceTokens, trainingSequences } from "./trajectory.js";

const CONTEXT = 16384;
let dir: string;
let ggufPath: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-rollout-embedded-"));
  ggufPath = writeTinyModel(dir, { formats: ["gguf"], maxPositions: CONTEXT, seed: 3 }).ggufPath!;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("tiny GGUF, token mode, on BFCL: graded rollout whose single sequence is what llama.cpp saw and sampled", async () => {
  const loaded = await createPolicyModel(ggufPath, { mode: "tokens", concurrency: 1, contextSize: CONTEXT });
  try {
    assert.equal(loaded.model.kind, "tokens");
    if (loaded.model.kind !== "tokens") return;
    const real = loaded.model.sampler;
    const seen: { prompt: number[]; sample: number[]; logprobs: number[] }[] = [];
    const sampler: TokenSampler = {
      id: real.id,
      async sample(request) {
        const result = await real.sample(request);
        seen.push({ prompt: [...request.promptTokens], sample: result.tokens, logprobs: result.logprobs });
        return result;
      },
    };
    const env = new BfclEnvironment({ categories: ["base"] });
    const trajectory = await runRollout({
      env,
      taskId: "multi_turn_base_1",
      model: { kind: "tokens", sampler, template: loaded.model.template },
      maxSteps: 2,
      maxTokensPerCall: 24,
      contextLimitTokens: CONTEXT,
      temperature: 1,
      seed: 5,
    });
    assert.ok(["done", "max_steps"].includes(trajectory.termination), `${trajectory.termination}: ${trajectory.error}`);
    assert.equal(trajectory.model, "embedded:model.gguf");
    assert.equal(trajectory.success, false);
    assert.ok(Array.isArray(trajectory.evaluation.turns));
    assert.ok(seen.length >= 1 && seen.length <= 2);
    const [sequence, ...others] = trainingSequences(trajectory);
    assert.equal(others.length, 0);
    const last = seen.at(-1)!;
    assert.deepEqual(sequenceTokens(sequence), [...last.prompt, ...last.sample]);
    const policy = sequence.filter((s) => s.source === "policy");
    assert.deepEqual(policy.flatMap((s) => s.tokens), seen.flatMap((c) => c.sample));
    assert.deepEqual(policy.flatMap((s) => s.logprobs!), seen.flatMap((c) => c.logprobs));
    assert.ok(policy.flatMap((s) => s.logprobs!).every((lp) => Number.isFinite(lp) && lp <= 0));
  } finally {
    await loaded.close();
  }
});

test("tiny GGUF, chat mode, several rollouts in flight on key-chain: token ids come back and every call is exact", async () => {
  const loaded = await createPolicyModel(ggufPath, { concurrency: 2, contextSize: 2048 });
  try {
    assert.equal(loaded.contextTokens, 2048);
    const env = new KeyChainEnvironment({ length: 2, symbols: 4 });
    const tasks = (await env.listTasks("train")).slice(0, 2).map((taskId) => ({ taskId }));
    const result = await runRollouts({ env, model: loaded.model, tasks, samplesPerTask: 2, batchId: "e2e", concurrency: 2, maxTokensPerCall: 8, temperature: 1, seed: 1, logprobs: true });
    assert.equal(result.stats.errored, 0, result.stats.firstError);
    assert.equal(result.trajectories.length, 4);
    for (const trajectory of result.trajectories) {
      assert.equal(trajectory.steps.length, 2);
      const sequences = trainingSequences(trajectory);
      assert.ok(sequences.length >= 1);
      for (const sequence of sequences) {
        const mask = sequence.flatMap((s) => s.lossMask);
        assert.equal(mask.length, sequenceTokens(sequence).length);
        assert.equal(sequence.at(-1)!.source, "policy"); // every sequence ends with what was sampled
      }
      const policy = trajectory.segments.filter((s) => s.source === "policy");
      assert.deepEqual(policy.map((s) => s.step), [0, 1]);
      assert.ok(policy.every((s) => s.logprobs?.length === s.tokens.length));
    }
  } finally {
    await loaded.close();
  }
});

test("model specs: unknown forms and impossible combinations are named", async () => {
  await assert.rejects(createPolicyModel("gpt-4o"), /unknown model spec 'gpt-4o'; use openai:<model>/);
  await assert.rejects(createPolicyModel("openai:"), /needs a model name/);
  await assert.rejects(createPolicyModel("openai:gpt-4o", { mode: "tokens" }), /chat only/);
  await assert.rejects(createPolicyModel("openai:gpt-4o", { baseUrl: "not a url" }), /baseUrl/);
  await assert.rejects(createPolicyModel(join(dir, "missing.gguf")), /missing\.gguf/);
});
