import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EmbeddedModel } from "./embedded-model.js";
import { createEmbeddedProvider } from "./embedded-provider.js";
import { readSafetensors } from "./safetensors.js";
import { qwen2ReferenceLogits } from "./test-support/qwen2-reference.js";
import { runProviderContract } from "./test-support/provider-contract.js";
import { tinyModel } from "./test-support/tiny-fixture.js";

runProviderContract({
  name: "embedded (tiny GGUF)",
  setup: async () => {
    const provider = await createEmbeddedProvider({ model: tinyModel().ggufPath!, contextSize: 512, sequences: 2, threads: 1 });
    return { provider, close: () => provider.close() };
  },
  knowsTokenIds: true,
  supportsJsonSchema: true,
  reproducibleSeed: true,
});

test("embedded chat: the prompt is the chat template's, and a finished turn ends with an end-of-turn token", async () => {
  const provider = await createEmbeddedProvider({ model: tinyModel().ggufPath!, contextSize: 512, threads: 1 });
  try {
    const messages = [{ role: "user" as const, content: "Hi" }];
    for (let seed = 0; seed < 200; seed++) {
      const completion = await provider.chat({ messages, maxTokens: 40, seed, temperature: 1.5 });
      assert.deepEqual(completion.promptTokenIds, provider.template.render(messages, { addGenerationPrompt: true }));
      if (completion.finishReason !== "stop") continue;
      // <|im_end|> or another end-of-generation token of the model (<|endoftext|>)
      assert.ok(provider.model.isEndOfGeneration(completion.completionTokenIds!.at(-1)!));
      assert.equal(completion.rawText, provider.template.decode(completion.completionTokenIds!.slice(0, -1)));
      return;
    }
    assert.fail("no sample ended by <|im_end|> in 200 seeds");
  } finally {
    await provider.close();
  }
});

test("TokenSampler: logprobs are the model's log-softmax of the sampled token (temperature 1)", async () => {
  const files = tinyModel();
  const model = await EmbeddedModel.load({ model: files.ggufPath!, contextSize: 256, threads: 1 });
  try {
    const prompt = model.tokenizer.encode("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n");
    const result = await model.sample({ promptTokens: prompt, maxTokens: 4, temperature: 1, seed: 9 });
    assert.equal(result.tokens.length, result.logprobs.length);
    const config = JSON.parse(readFileSync(join(files.dir, "config.json"), "utf8"));
    const weights = readSafetensors(join(files.dir, "model.safetensors"));
    // Reference: the HF-semantics forward pass over prompt + the tokens sampled so far, position by position.
    const logits = qwen2ReferenceLogits(config, weights, [...prompt, ...result.tokens.slice(0, -1)]);
    result.tokens.forEach((token, i) => {
      const row = logits[prompt.length - 1 + i];
      const max = Math.max(...row);
      const logSum = Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max;
      assert.ok(Math.abs(result.logprobs[i] - (row[token] - logSum)) < 0.01, `token ${i}: ${result.logprobs[i]} vs ${row[token] - logSum}`);
    });
  } finally {
    await model.close();
  }
});

test("TokenSampler: a cached prefix gives the same samples as a fresh context, and stop tokens end the sample", async () => {
  const model = await EmbeddedModel.load({ model: tinyModel().ggufPath!, contextSize: 256, sequences: 1, threads: 1 });
  const fresh = await EmbeddedModel.load({ model: tinyModel().ggufPath!, contextSize: 256, sequences: 1, threads: 1 });
  try {
    const first = model.tokenizer.encode("<|im_start|>user\nOne<|im_end|>\n<|im_start|>assistant\n");
    const a = await model.sample({ promptTokens: first, maxTokens: 6, seed: 1 });
    const longer = [...first, ...a.tokens, ...model.tokenizer.encode("\n<|im_start|>user\nTwo<|im_end|>\n<|im_start|>assistant\n")];
    const cached = await model.sample({ promptTokens: longer, maxTokens: 6, seed: 2 });
    const uncached = await fresh.sample({ promptTokens: longer, maxTokens: 6, seed: 2 });
    assert.deepEqual(cached.tokens, uncached.tokens);
    const stopAt = uncached.tokens[2];
    const stopped = await fresh.sample({ promptTokens: longer, maxTokens: 6, seed: 2, stopTokens: [stopAt] });
    assert.deepEqual(stopped.tokens, uncached.tokens.slice(0, uncached.tokens.indexOf(stopAt) + 1));
    assert.equal(stopped.stopReason, "stop");
  } finally {
    await model.close();
    await fresh.close();
  }
});

test("a prompt longer than the context is refused by code, and a missing model file too", async () => {
  const model = await EmbeddedModel.load({ model: tinyModel().ggufPath!, contextSize: 256, threads: 1 });
  try {
    const tooLong = new Array(model.contextSize + 1).fill(65);
    await assert.rejects(model.sample({ promptTokens: tooLong, maxTokens: 1 }), (error: { code?: string; message: string }) => {
      assert.equal(error.code, "LLM_CONTEXT_OVERFLOW");
      assert.equal(error.message, "257-token prompt in a 256-token context");
      return true;
    });
  } finally {
    await model.close();
  }
  await assert.rejects(EmbeddedModel.load({ model: "/nonexistent/model.gguf" }), (error: { code?: string; message: string }) => {
    assert.equal(error.code, "LLM_MODEL_NOT_FOUND");
    assert.equal(error.message, "no model file at /nonexistent/model.gguf");
    return true;
  });
});
