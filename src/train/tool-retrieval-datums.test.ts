// Token-in/token-out with tool-retrieval: the tools are part of the prompt, so a call offered other tools than the
// previous one is its own token sequence, exactly as the sampler saw it, and the datums follow those sequences. The
// sampler writes one token per character, which the tokenizer never would: re-tokenized sampled text would show.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContextStrategy, runRollout, SEARCH_TOOLS_NAME, sequenceTokens, trainingSequences } from "../agent/index.js";
import { CounterEnvironment } from "../agent/test-support/counter-env.js";
import { Qwen2ChatTemplate, Tokenizer, writeTinyModel, type SampleRequest, type TokenSampler } from "../llm/index.js";
import { buildDatum, trajectorySequences } from "./datums.js";

const SLOW = { timeout: 600_000 };

let dir: string;
let template: Qwen2ChatTemplate;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-tool-retrieval-tokens-"));
  writeTinyModel(dir, { formats: ["hf"] });
  template = new Qwen2ChatTemplate({ tokenizer: Tokenizer.fromFile(dir) });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("token rollout with tool-retrieval: a call offered other tools starts its own exact sequence, the same tools extend it; datums follow", SLOW, async () => {
  const env = new CounterEnvironment();
  const replies = [
    `<tool_call>\n{"name": "${SEARCH_TOOLS_NAME}", "arguments": {"query": "finish"}}\n</tool_call>`,
    '<tool_call>\n{"name": "add", "arguments": {"k": 1}}\n</tool_call>',
    '<tool_call>\n{"name": "finish", "arguments": {}}\n</tool_call>',
  ];
  const seen: { prompt: number[]; sample: number[]; logprobs: number[] }[] = [];
  const sampler: TokenSampler = {
    id: "char-sampler",
    async sample(request: SampleRequest) {
      // One token per character: re-tokenizing the sampled text would give other ids.
      const tokens = [...[...replies[seen.length]].flatMap((ch) => template.encode(ch)), ...template.stopTokens];
      const logprobs = tokens.map((_, i) => -0.01 * (i + 1));
      seen.push({ prompt: [...request.promptTokens], sample: tokens, logprobs });
      return { tokens, logprobs, stopReason: "stop" };
    },
  };
  const context = createContextStrategy("tool-retrieval:1");
  const trajectory = await runRollout({ env, taskId: "train-reach-1", model: { kind: "tokens", sampler, template }, context });
  assert.equal(trajectory.success, true, trajectory.error);
  const offered = trajectory.steps.map((s) => s.offeredTools!);
  assert.equal(offered[0].length, 2); // one retrieved + search_tools
  assert.deepEqual(offered[1], ["add", "finish", SEARCH_TOOLS_NAME]); // the search found both
  assert.deepEqual(offered[2], offered[1]);
  // The search never reached the environment.
  assert.deepEqual(env.actions.map((a) => a.tool_calls!.map((c) => c.function.name)), [["add"], ["finish"]]);

  // Call 0 alone; calls 1 and 2 (same tools) one sequence: the last prompt plus its sample.
  const sequences = trainingSequences(trajectory);
  assert.equal(sequences.length, 2);
  assert.deepEqual(sequenceTokens(sequences[0]), [...seen[0].prompt, ...seen[0].sample]);
  assert.deepEqual(sequenceTokens(sequences[1]), [...seen[2].prompt, ...seen[2].sample]);
  assert.deepEqual(sequenceTokens(sequences[1]).slice(0, seen[1].prompt.length + seen[1].sample.length), [...seen[1].prompt, ...seen[1].sample]);
  // Each prompt is the template's rendering with the tools that call was offered.
  const available = [...(await env.create("train-reach-1")).initial.tools, ...context.toolSelection!.metaTools];
  const toolsOf = (names: string[]) => names.map((name) => available.find((tool) => tool.function.name === name)!);
  assert.deepEqual(seen[1].prompt, template.render(trajectory.messages.slice(0, 4), { tools: toolsOf(offered[1]), addGenerationPrompt: true }));
  assert.notDeepEqual(seen[1].prompt.slice(0, seen[0].prompt.length), seen[0].prompt);

  // Datums: the loss mask is 1 exactly on sampled tokens of each sequence, logprobs and advantages ride along.
  const rows = trajectory.segments.map((s) => s.tokens.map(() => 0.5));
  const training = trajectorySequences(trajectory, rows);
  assert.equal(training.length, 2);
  const mask1 = [...seen[0].prompt.map(() => 0), ...seen[0].sample.map(() => 1)];
  assert.deepEqual(training[0].lossMask, mask1);
  const mask2 = [...seen[1].prompt.map(() => 0), ...seen[1].sample.map(() => 1)];
  mask2.push(...seen[2].prompt.slice(mask2.length).map(() => 0), ...seen[2].sample.map(() => 1));
  assert.deepEqual(training[1].lossMask, mask2);
  const datum = buildDatum(training[1]);
  assert.deepEqual(datum.loss_fn_inputs.weights.data, mask2.slice(1));
  assert.deepEqual(datum.loss_fn_inputs.logprobs.data.filter((_, i) => mask2[i + 1] === 1), [...seen[1].logprobs, ...seen[2].logprobs]);
});
