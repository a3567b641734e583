// The OpenAI provider's own behaviour (retries, timeouts, concurrency, error codes) against small fake servers that
// fail on purpose; its behaviour against a real server is the contract suite in serve.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createOpenAIProvider } from "./openai-provider.js";

function completion(content: string) {
  return {
    id: "x",
    object: "chat.completion",
    created: 0,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  };
}

async function fakeServer(handler: (request: IncomingMessage, response: ServerResponse, body: unknown) => void) {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    handler(request, response, JSON.parse(Buffer.concat(chunks).toString() || "null"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const send = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
};
const ask = { messages: [{ role: "user" as const, content: "hi" }] };

test("503s are retried with backoff until the server answers", async () => {
  let calls = 0;
  const server = await fakeServer((_, response) => (++calls <= 2 ? send(response, 503, { error: { message: "busy" } }) : send(response, 200, completion("ok"))));
  try {
    const provider = createOpenAIProvider({ model: "m", baseURL: server.url, apiKey: "k", retryBaseDelayMs: 5 });
    assert.equal((await provider.chat(ask)).message.content, "ok");
    assert.equal(calls, 3);
  } finally {
    await server.close();
  }
});

test("retries run out into LLM_UNAVAILABLE; a 400 is not retried", async () => {
  let calls = 0;
  const server = await fakeServer((request, response, body) => {
    calls++;
    if ((body as { model: string }).model === "bad") send(response, 400, { error: { message: "bad field" } });
    else send(response, 500, { error: { message: "boom" } });
  });
  try {
    const provider = createOpenAIProvider({ model: "m", baseURL: server.url, apiKey: "k", maxRetries: 2, retryBaseDelayMs: 1 });
    await assert.rejects(provider.chat(ask), (error: { code?: string; details?: { attempts?: number } }) => {
      assert.equal(error.code, "LLM_UNAVAILABLE");
      assert.equal(error.details?.attempts, 3);
      return true;
    });
    assert.equal(calls, 3);
    calls = 0;
    const bad = createOpenAIProvider({ model: "bad", baseURL: server.url, apiKey: "k", retryBaseDelayMs: 1 });
    await assert.rejects(bad.chat(ask), { code: "LLM_BAD_REQUEST" });
    assert.equal(calls, 1);
  } finally {
    await server.close();
  }
});

test("an unreachable server is LLM_UNAVAILABLE, a slow one LLM_TIMEOUT", async () => {
  const closed = await fakeServer(() => undefined);
  await closed.close();
  const unreachable = createOpenAIProvider({ model: "m", baseURL: closed.url, apiKey: "k", maxRetries: 1, retryBaseDelayMs: 1 });
  await assert.rejects(unreachable.chat(ask), { code: "LLM_UNAVAILABLE" });

  const slow = await fakeServer((_, response) => setTimeout(() => send(response, 200, completion("late")), 500));
  try {
    const provider = createOpenAIProvider({ model: "m", baseURL: slow.url, apiKey: "k", timeoutMs: 50, maxRetries: 0 });
    await assert.rejects(provider.chat(ask), { code: "LLM_TIMEOUT" });
  } finally {
    await slow.close();
  }
});

test("no more calls are in flight than maxConcurrency", async () => {
  let inFlight = 0;
  let peak = 0;
  const server = await fakeServer((_, response) => {
    peak = Math.max(peak, ++inFlight);
    setTimeout(() => {
      inFlight--;
      send(response, 200, completion("ok"));
    }, 20);
  });
  try {
    const provider = createOpenAIProvider({ model: "m", baseURL: server.url, apiKey: "k", maxConcurrency: 2 });
    await Promise.all(Array.from({ length: 7 }, () => provider.chat(ask)));
    assert.equal(peak, 2);
  } finally {
    await server.close();
  }
});

test("structured output that is not JSON is LLM_BAD_JSON; the schema is sent as response_format", async () => {
  let seen: { response_format?: { type: string; json_schema: { name: string } } } = {};
  const server = await fakeServer((_, response, body) => {
    seen = body as typeof seen;
    send(response, 200, completion("{not json"));
  });
  try {
    const provider = createOpenAIProvider({ model: "m", baseURL: server.url, apiKey: "k" });
    await assert.rejects(provider.chat({ ...ask, jsonSchema: { name: "verdict", schema: { type: "object" } } }), { code: "LLM_BAD_JSON" });
    assert.equal(seen.response_format?.type, "json_schema");
    assert.equal(seen.response_format?.json_schema.name, "verdict");
  } finally {
    await server.close();
  }
});

test("token ids are read from vLLM's logprob spelling when the server sends no token_ids", async () => {
  let seen: Record<string, unknown> = {};
  const server = await fakeServer((_, response, body) => {
    seen = body as Record<string, unknown>;
    const reply = completion("ab");
    (reply.choices[0] as Record<string, unknown>).logprobs = { content: [{ token: "token_id:7", logprob: -0.5 }, { token: "token_id:9", logprob: -1.5 }] };
    send(response, 200, reply);
  });
  try {
    const provider = createOpenAIProvider({ model: "m", baseURL: server.url, apiKey: "k", requestTokenIds: true });
    const result = await provider.chat({ ...ask, logprobs: true });
    assert.deepEqual(result.completionTokenIds, [7, 9]);
    assert.deepEqual(result.completionLogprobs, [-0.5, -1.5]);
    assert.equal(seen.return_tokens_as_token_ids, true);
    assert.equal(seen.return_token_ids, true);
  } finally {
    await server.close();
  }
});
