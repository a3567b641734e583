// Token-exactness of rollouts through a TokenSampler and the real Qwen2 chat template and tokenizer (from the
// tiny model's tokenizer.json). The sampler is deterministic and writes its replies one character per token, which
// is NOT how the tokenizer would encode the same text: a rollout that re-tokenized sampled text would be caught.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Qwen2ChatTemplate, Tokenizer, writeTinyModel, type SampleRequest, type TokenSampler } from "../llm/index.js";
import { KeyChainEnvironment } from "../env/index.js";
import { createContextStrategy } from "./context/index.js";
import { runRollout } from "./rollout.js";
import { CounterEnvironment } from "./test-support/counter-env.js";
import { rolloutError, sequenceTokens, trainingSequences, type Trajectory } from "./trajectory.js";

let dir: string;
let template: Qwen2ChatTemplate;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-rollout-tokens-"));
  writeTinyModel(dir, { formats: ["hf"] });
  template = new Qwen2ChatTemplate({ tokenizer: Tokenizer.fromFile(dir) });
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Seen {
  prompt: number[];
  sample: number[];
  logprobs: number[];
}

/** Replies chosen from the decoded prompt, sampled one character per token, then the stop token. */
function characterSampler(reply: (promptText: string, call: number) => string): TokenSampler & { seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    id: "char-sampler",
    seen,
    async sample(request: SampleRequest) {
      const text = reply(template.decode(request.promptTokens), seen.length);
      const all = [...[...text].flatMap((ch) => template.encode(ch)), ...template.stopTokens];
      const tokens = all.slice(0, request.maxTokens);
      const logprobs = tokens.map((_, i) => -0.01 * (i + 1) - seen.length);
      seen.push({ prompt: [...request.promptTokens], sample: tokens, logprobs });
      return { tokens, logprobs, stopReason: tokens.length < all.length ? "length" : "stop" };
    },
  };
}

/** Linear rollouts: one sequence = the last prompt + the last sample; lossMask 1 exactly on every sampled token. */
function assertLinearExact(trajectory: Trajectory, seen: Seen[]): void {
  const sequences = trainingSequences(trajectory);
  assert.equal(sequences.length, 1);
  const tokens = sequenceTokens(sequences[0]);
  const last = seen.at(-1)!;
  assert.deepEqual(tokens, [...last.prompt, ...last.sample]);
  const expectedMask = tokens.map(() => 0);
  const expectedLogprobs: number[] = [];
  for (const call of seen) {
    assert.deepEqual(tokens.slice(0, call.prompt.length + call.sample.length), [...call.prompt, ...call.sample]);
    for (let i = 0; i < call.sample.length; i++) expectedMask[call.prompt.length + i] = 1;
    expectedLogprobs.push(...call.logprobs);
  }
  assert.deepEqual(sequences[0].flatMap((s) => s.lossMask), expectedMask);
  const policy = sequences[0].filter((s) => s.source === "policy");
  assert.deepEqual(policy.flatMap((s) => s.logprobs!), expectedLogprobs);
  assert.deepEqual(policy.map((s) => s.step), seen.map((_, i) => i));
}

test("token rollout, linear: segments are exactly what the sampler saw and sampled, sampled text never re-tokenized", async () => {
  const env = new CounterEnvironment();
  const sampler = characterSampler((_, call) =>
    [
      '<think>need 2</think><tool_call>\n{"name": "add", "arguments": {"k": 2}}\n</tool_call>',
      'I will finish now. <tool_call>\n{"name": "finish", "arguments": {}}\n</tool_call>',
    ][call],
  );
  const trajectory = await runRollout({ env, taskId: "train-reach-2", model: { kind: "tokens", sampler, template } });
  assert.equal(trajectory.success, true);
  assert.equal(sampler.seen.length, 2);
  assertLinearExact(trajectory, sampler.seen);
  // Re-tokenizing the sampled text would have given other (fewer) ids.
  const firstSample = sampler.seen[0].sample;
  assert.notDeepEqual(template.encode(template.decode(firstSample)), firstSample);
  // The first prompt is the template's own rendering, tools in the system turn.
  assert.deepEqual(sampler.seen[0].prompt, template.render(trajectory.messages.slice(0, 2), { tools: (await env.create("train-reach-2")).initial.tools, addGenerationPrompt: true }));
  assert.equal(trajectory.steps[0].action.reasoning_content, "need 2");
  assert.deepEqual(new Set(trajectory.segments.map((s) => s.source)), new Set(["prompt", "policy", "environment"]));
});

test("token rollout: a reply cut at the token limit is closed out of the loss, and the sequence stays exact", async () => {
  const env = new KeyChainEnvironment({ length: 3, symbols: 4, seed: 2 });
  const sampler = characterSampler((prompt, call) => {
    const digit = Number(prompt.trimEnd().split("<|im_start|>user\n").at(-1)!.split("<|im_end|>")[0]);
    return call === 1 ? `${env.secret[digit]} because the lock with this digit has always opened with that letter` : env.secret[digit];
  });
  const trajectory = await runRollout({ env, taskId: "kc-123", model: { kind: "tokens", sampler, template }, maxTokensPerCall: 20 });
  assert.equal(trajectory.termination, "done");
  assert.equal(trajectory.success, true); // the cut reply still starts with the right letter
  assert.equal(sampler.seen[1].sample.length, 20);
  assertLinearExact(trajectory, sampler.seen);
  // The closing <|im_end|> after the cut reply is in the sequence but out of the loss.
  const closing = trajectory.segments.find((s) => s.source === "prompt" && s.tokens.length === 1);
  assert.deepEqual(closing?.tokens, template.stopTokens);
  assert.deepEqual(closing?.lossMask, [0]);
});

test("token rollout with experience: its tokens are labelled, out of the loss, and the prompt renders like the template", async () => {
  const env = new CounterEnvironment();
  const sampler = characterSampler(() => '<tool_call>\n{"name": "add", "arguments": {"k": 1}}\n</tool_call><tool_call>\n{"name": "finish", "arguments": {}}\n</tool_call>');
  const trajectory = await runRollout({
    env,
    taskId: "train-reach-1",
    model: { kind: "tokens", sampler, template },
    experience: () => "Tip: add the target in one call, then finish.",
  });
  assert.equal(trajectory.experienceGuided, true);
  assertLinearExact(trajectory, sampler.seen);
  const experience = trajectory.segments.filter((s) => s.source === "experience");
  assert.equal(experience.length, 1);
  assert.equal(template.decode(experience[0].tokens), "\n<|im_start|>user\nTip: add the target in one call, then finish.<|im_end|>");
  assert.ok(experience[0].lossMask.every((m) => m === 0));
  const tools = (await env.create("train-reach-1")).initial.tools;
  assert.deepEqual(sampler.seen[0].prompt, template.render(trajectory.messages.slice(0, 3), { tools, addGenerationPrompt: true }));
});

test("token rollout with a history-rewriting context: one exact sequence per model call", async () => {
  const env = new CounterEnvironment();
  const sampler = characterSampler((_, call) =>
    [
      '<think>first add</think><tool_call>\n{"name": "add", "arguments": {"k": 1}}\n</tool_call>',
      '<think>then finish</think><tool_call>\n{"name": "finish", "arguments": {}}\n</tool_call>',
    ][call],
  );
  const trajectory = await runRollout({
    env,
    taskId: "train-reach-1",
    model: { kind: "tokens", sampler, template },
    context: createContextStrategy("linear-no-thinking"),
  });
  assert.equal(trajectory.success, true);
  const sequences = trainingSequences(trajectory);
  assert.equal(sequences.length, 2);
  sequences.forEach((sequence, i) => {
    const { prompt, sample } = sampler.seen[i];
    assert.deepEqual(sequenceTokens(sequence), [...prompt, ...sample]);
    assert.deepEqual(sequence.flatMap((s) => s.lossMask), [...prompt.map(() => 0), ...sample.map(() => 1)]);
  });
  // The second prompt no longer holds the first call's thinking, so it is not an extension of the first sequence.
  assert.doesNotMatch(template.decode(sampler.seen[1].prompt), /first add/);
});

test("token rollout: a first prompt that does not fit in the context is an error that says by how much; a later one ends the episode", async () => {
  const env = new CounterEnvironment();
  const sampler = characterSampler(() => '<tool_call>\n{"name": "add", "arguments": {"k": 1}}\n</tool_call>');
  const model = { kind: "tokens" as const, sampler, template };
  const tooSmall = await runRollout({ env, taskId: "train-reach-9", model, contextLimitTokens: 20 });
  assert.equal(sampler.seen.length, 0, "nothing was sampled");
  assert.equal(tooSmall.termination, "context_limit");
  const { tools } = (await env.create("train-reach-9")).initial;
  const first = template.render(tooSmall.messages, { tools, addGenerationPrompt: true }).length;
  assert.equal(rolloutError(tooSmall), `model call 0 failed: LLM_CONTEXT_OVERFLOW: ${first.toLocaleString("en-US")}-token prompt in a 20-token context`);

  // Room for the first prompt and one reply only: the episode acted, then ran out of context. A result.
  const later = await runRollout({ env, taskId: "train-reach-9", model, contextLimitTokens: first + 40, maxTokensPerCall: 40 });
  assert.equal(later.termination, "context_limit");
  assert.ok(later.steps.length >= 1);
  assert.equal(rolloutError(later), undefined);
});

test("token rollout: experience after the first turn is refused with a context that rewrites the history", async () => {
  const env = new CounterEnvironment();
  const sampler = characterSampler((_, call) =>
    ['<tool_call>\n{"name": "add", "arguments": {"k": 1}}\n</tool_call>', '<tool_call>\n{"name": "finish", "arguments": {}}\n</tool_call>'][call],
  );
  const run = (experience: Parameters<typeof runRollout>[0]["experience"]) =>
    runRollout({ env, taskId: "train-reach-1", model: { kind: "tokens", sampler, template }, context: createContextStrategy("linear-no-thinking"), experience });
  await assert.rejects(run(() => "Tip: finish now."), /linear-no-thinking rewrites the history, so experience can be given only at the episode's start.*not at step 1/);
  // At the start only, it runs (the experience is pinned there).
  const trajectory = await run(({ step }) => (step === 0 ? "Tip: finish now." : undefined));
  assert.equal(trajectory.experienceGuided, true);
});
