import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { createEmbeddedProvider, type EmbeddedProvider } from "./embedded-provider.js";
import { createOpenAIProvider } from "./openai-provider.js";
import { ScriptedProvider } from "./scripted-provider.js";
import { startModelServer } from "./serve.js";
import { runProviderContract } from "./test-support/provider-contract.js";
import { tinyModel } from "./test-support/tiny-fixture.js";

// The OpenAI provider against `model serve` on the tiny model: the same contract as the embedded provider directly.
runProviderContract({
  name: "openai provider via model serve (tiny GGUF)",
  setup: async () => {
    const embedded = await createEmbeddedProvider({ model: tinyModel().ggufPath!, contextSize: 512, sequences: 2, threads: 1 });
    const server = await startModelServer({ provider: embedded, port: 0, servedModelName: "tiny", tokenText: (id) => embedded.template.decode([id]) });
    const provider = createOpenAIProvider({ model: "tiny", baseURL: `${server.url}/v1`, apiKey: "unused", maxConcurrency: 3 });
    return {
      provider,
      close: async () => {
        await server.close();
        await embedded.close();
      },
    };
  },
  knowsTokenIds: true,
  supportsJsonSchema: true,
  reproducibleSeed: true,
});

async function withServer<T>(
  provider: ConstructorParameters<typeof ScriptedProvider>[0] | EmbeddedProvider,
  options: { apiKey?: string },
  body: (url: string) => Promise<T>,
): Promise<T> {
  const served = Array.isArray(provider) ? new ScriptedProvider(provider) : provider;
  const server = await startModelServer({ provider: served, port: 0, servedModelName: "m", apiKey: options.apiKey });
  try {
    return await body(server.url);
  } finally {
    await server.close();
  }
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

test("serve: bad bodies get 4xx with an OpenAI-shaped error naming the problem", async () => {
  await withServer(["never used"], {}, async (url) => {
    const cases: [unknown, number, RegExp][] = [
      [{ model: "m" }, 400, /messages/],
      [{ messages: [{ role: "user", content: "x" }], stream_options: { include_usage: true } }, 400, /stream_options needs stream/],
      [{ messages: [{ role: "user", content: "x" }], temperature: 7 }, 400, /temperature/],
      [{ messages: [{ role: "wizard", content: "x" }] }, 400, /role/],
      [{ messages: [{ role: "user", content: "x" }], model: "other" }, 404, /does not exist/],
    ];
    for (const [body, status, message] of cases) {
      const response = await post(url, body);
      assert.equal(response.status, status, JSON.stringify(body));
      const json = (await response.json()) as { error: { message: string; type: string } };
      assert.match(json.error.message, message);
    }
    const notJson = await fetch(`${url}/v1/chat/completions`, { method: "POST", body: "{nope" });
    assert.equal(notJson.status, 400);
    assert.equal((await fetch(`${url}/v1/nothing`)).status, 404);
    assert.deepEqual(await (await fetch(`${url}/health`)).json(), { status: "ok", model: "m" });
    assert.equal(((await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] }).data[0].id, "m");
  });
});

test("serve + openai provider: tool calls and tool results survive the wire both ways", async () => {
  const scripted = new ScriptedProvider([{ content: "", toolCalls: [{ name: "cd", arguments: { folder: "docs" } }] }, "done"]);
  const server = await startModelServer({ provider: scripted, port: 0, servedModelName: "m" });
  try {
    const provider = createOpenAIProvider({ model: "m", baseURL: `${server.url}/v1`, apiKey: "x" });
    const tools = [{ type: "function" as const, function: { name: "cd", description: "change folder", parameters: { type: "object", properties: {} } } }];
    const first = await provider.chat({ messages: [{ role: "user", content: "go to docs" }], tools });
    assert.equal(first.finishReason, "tool_calls");
    assert.equal(first.message.tool_calls?.[0].function.name, "cd");
    assert.deepEqual(JSON.parse(first.message.tool_calls![0].function.arguments), { folder: "docs" });
    const second = await provider.chat({
      messages: [{ role: "user", content: "go to docs" }, first.message, { role: "tool", tool_call_id: first.message.tool_calls![0].id, content: "ok" }],
      tools,
    });
    assert.equal(second.message.content, "done");
    const seen = scripted.requests[1];
    assert.equal(seen.tools?.[0].function.name, "cd");
    assert.deepEqual(seen.messages.map((m) => m.role), ["user", "assistant", "tool"]);
    assert.equal(seen.messages[1].tool_calls?.[0].function.name, "cd");
    assert.equal(seen.messages[2].tool_call_id, first.message.tool_calls![0].id);
  } finally {
    await server.close();
  }
});

test("serve: API key required when set; the provider maps 401 to LLM_AUTH and 404 to LLM_MODEL_NOT_FOUND", async () => {
  await withServer(["hi", "hi"], { apiKey: "secret-key-123" }, async (url) => {
    assert.equal((await post(url, { messages: [{ role: "user", content: "x" }] })).status, 401);
    const wrong = createOpenAIProvider({ model: "m", baseURL: `${url}/v1`, apiKey: "wrong-key-456" });
    await assert.rejects(wrong.chat({ messages: [{ role: "user", content: "x" }] }), (error: Error & { code?: string }) => {
      assert.equal(error.code, "LLM_AUTH");
      assert.ok(!error.message.includes("wrong-key-456"), "the key must not appear in messages");
      return true;
    });
    const missing = createOpenAIProvider({ model: "nope", baseURL: `${url}/v1`, apiKey: "secret-key-123" });
    await assert.rejects(missing.chat({ messages: [{ role: "user", content: "x" }] }), { code: "LLM_MODEL_NOT_FOUND" });
    const right = createOpenAIProvider({ model: "m", baseURL: `${url}/v1`, apiKey: "secret-key-123" });
    assert.equal((await right.chat({ messages: [{ role: "user", content: "x" }] })).message.content, "hi");
  });
});

test("serve: logprobs in the OpenAI shape, token ids in vLLM's extension fields", async () => {
  const embedded = await createEmbeddedProvider({ model: tinyModel().ggufPath!, contextSize: 512, threads: 1 });
  try {
    await withServer(embedded, {}, async (url) => {
      const response = await post(url, { messages: [{ role: "user", content: "Hi" }], max_tokens: 5, seed: 3, logprobs: true, return_tokens_as_token_ids: true });
      assert.equal(response.status, 200);
      const body = (await response.json()) as {
        prompt_token_ids: number[];
        choices: { token_ids: number[]; logprobs: { content: { token: string; logprob: number; bytes: number[] }[] } }[];
        usage: { completion_tokens: number; prompt_tokens: number };
      };
      const choice = body.choices[0];
      assert.equal(choice.token_ids.length, body.usage.completion_tokens);
      assert.equal(body.prompt_token_ids.length, body.usage.prompt_tokens);
      assert.deepEqual(choice.logprobs.content.map((c) => c.token), choice.token_ids.map((id) => `token_id:${id}`));
      // And the same call straight to the provider gives the same ids and logprobs: nothing is lost on the wire.
      // (The second call reuses the cached prompt; llama.cpp's F16 KV cache moves logprobs by ~1e-3.)
      const direct = await embedded.chat({ messages: [{ role: "user", content: "Hi" }], maxTokens: 5, seed: 3, logprobs: true });
      assert.deepEqual(choice.token_ids, direct.completionTokenIds);
      choice.logprobs.content.forEach((c, i) => assert.ok(Math.abs(c.logprob - direct.completionLogprobs![i]) < 0.01));
    });
  } finally {
    await embedded.close();
  }
});

test("serve: choice i of n samples with seed + i; a provider that cannot stream is streamed whole", async () => {
  const scripted = new ScriptedProvider(
    [(request) => ({ role: "assistant", content: `seed ${request.seed}`, tool_calls: [{ id: "c1", type: "function", function: { name: "cd", arguments: '{"folder": "a"}' } }] })],
    { loop: true },
  );
  const server = await startModelServer({ provider: scripted, port: 0, servedModelName: "m" });
  try {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "x", maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "go" }], n: 3, seed: 40 });
    assert.deepEqual(answer.choices.map((c) => c.message.content), ["seed 40", "seed 41", "seed 42"]);
    const streamed = await client.chat.completions.stream({ model: "m", messages: [{ role: "user", content: "go" }], seed: 5 }).finalChatCompletion();
    const message = streamed.choices[0].message;
    assert.equal(message.content, "seed 5");
    assert.equal(streamed.choices[0].finish_reason, "tool_calls");
    assert.deepEqual(message.tool_calls?.map((c) => (c.type === "function" ? [c.id, c.function.name, c.function.arguments] : [])), [["c1", "cd", '{"folder": "a"}']]);
  } finally {
    await server.close();
  }
});
