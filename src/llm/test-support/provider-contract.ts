// The behaviour every LlmProvider must show, as one suite each implementation runs (like Hono's router
// `runTest`). Written for random-weight models: nothing here depends on what the model says, only on how the
// provider treats the request (lengths, stops, seeds, schema, concurrency).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChatRequest, LlmProvider } from "../types.js";
import { FinishReason } from "../types.js";

export interface ProviderContractOptions {
  name: string;
  /** Makes the provider once for the suite; `close` runs after it. */
  setup: () => Promise<{ provider: LlmProvider; close: () => Promise<void> }>;
  /** The backend returns exact prompt/completion token ids and logprobs. */
  knowsTokenIds: boolean;
  supportsJsonSchema: boolean;
  /** The same seed gives the same completion. */
  reproducibleSeed: boolean;
}

const hello: ChatRequest["messages"] = [{ role: "user", content: "Hello, who are you?" }];

/** Two adjacent printable ASCII characters of `text`, after its first character, to use as a stop string. */
function stopCandidate(text: string): { stop: string; at: number } | undefined {
  for (let i = 1; i + 1 < text.length; i++) {
    const pair = text.slice(i, i + 2);
    if (/^[\x21-\x7e]{2}$/.test(pair) && text.indexOf(pair) === i) return { stop: pair, at: i };
  }
  return undefined;
}

export function runProviderContract(options: ProviderContractOptions): void {
  describe(`LlmProvider contract: ${options.name}`, () => {
    let provider: LlmProvider;
    let close: () => Promise<void>;
    before(async () => ({ provider, close } = await options.setup()));
    after(async () => close?.());

    test("chat returns an assistant message with a finish reason and usage", async () => {
      const completion = await provider.chat({ messages: hello, maxTokens: 8, seed: 1 });
      assert.equal(completion.message.role, "assistant");
      assert.equal(typeof completion.message.content, "string");
      assert.ok(FinishReason.safeParse(completion.finishReason).success);
      assert.ok(completion.usage.promptTokens > 0);
      assert.ok(completion.usage.completionTokens >= 1 && completion.usage.completionTokens <= 8);
    });

    test("token ids and logprobs line up with usage", { skip: !options.knowsTokenIds }, async () => {
      const completion = await provider.chat({ messages: hello, maxTokens: 12, seed: 2, logprobs: true });
      assert.equal(completion.promptTokenIds?.length, completion.usage.promptTokens);
      assert.equal(completion.completionTokenIds?.length, completion.usage.completionTokens);
      assert.equal(completion.completionLogprobs?.length, completion.usage.completionTokens);
      for (const logprob of completion.completionLogprobs ?? []) assert.ok(Number.isFinite(logprob) && logprob <= 0, `logprob ${logprob}`);
    });

    test("max tokens is respected", async () => {
      for (const maxTokens of [1, 3]) {
        const completion = await provider.chat({ messages: hello, maxTokens, seed: 3 });
        assert.ok(completion.usage.completionTokens <= maxTokens);
        if (completion.finishReason === "length") assert.equal(completion.usage.completionTokens, maxTokens);
      }
    });

    test("a stop string ends the completion before it", { skip: !options.reproducibleSeed }, async () => {
      for (let seed = 10; seed < 40; seed++) {
        const free = await provider.chat({ messages: hello, maxTokens: 24, seed, temperature: 1 });
        const text = free.rawText ?? free.message.content;
        const candidate = stopCandidate(text);
        if (!candidate) continue;
        const stopped = await provider.chat({ messages: hello, maxTokens: 24, seed, temperature: 1, stop: [candidate.stop] });
        assert.equal(stopped.rawText ?? stopped.message.content, text.slice(0, candidate.at));
        assert.equal(stopped.finishReason, "stop");
        return;
      }
      assert.fail("no completion had two printable characters to stop on");
    });

    test("the same seed gives the same completion", { skip: !options.reproducibleSeed }, async () => {
      const request: ChatRequest = { messages: hello, maxTokens: 16, seed: 42, temperature: 1 };
      const first = await provider.chat(request);
      const second = await provider.chat(request);
      assert.equal(second.message.content, first.message.content);
      assert.deepEqual(second.completionTokenIds, first.completionTokenIds);
      const others = await Promise.all([43, 44, 45].map((seed) => provider.chat({ ...request, seed })));
      assert.ok(others.some((o) => o.message.content !== first.message.content), "different seeds should differ");
    });

    test("JSON-schema output parses and follows the schema", { skip: !options.supportsJsonSchema }, async () => {
      const schema = { type: "object", properties: { color: { enum: ["red", "green", "blue"] } }, required: ["color"] };
      const completion = await provider.chat({ messages: hello, maxTokens: 64, seed: 4, jsonSchema: { name: "color", schema } });
      assert.ok(["red", "green", "blue"].includes(JSON.parse(completion.message.content).color));
    });

    test("concurrent calls all complete", async () => {
      const completions = await Promise.all(
        Array.from({ length: 5 }, (_, i) => provider.chat({ messages: [{ role: "user", content: `Question ${i}` }], maxTokens: 6, seed: i })),
      );
      for (const completion of completions) assert.equal(completion.message.role, "assistant");
    });

    test("tools may be offered; any calls come back with JSON-text arguments", async () => {
      const completion = await provider.chat({
        messages: hello,
        maxTokens: 8,
        seed: 5,
        tools: [{ type: "function", function: { name: "lookup", description: "Look something up", parameters: { type: "object", properties: {} } } }],
      });
      assert.equal(completion.message.role, "assistant");
      for (const call of completion.message.tool_calls ?? []) assert.equal(typeof call.function.arguments, "string");
    });
  });
}
