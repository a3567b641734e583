// `evolver model serve` as OpenAI's own SDK sees it: the official `openai` client against the real server with the
// tiny embedded model. Nothing here depends on what the random model says, only on how the server answers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { createEmbeddedProvider, type EmbeddedProvider } from "./embedded-provider.js";
import { startModelServer, type ModelServer } from "./serve.js";
import { tinyModel } from "./test-support/tiny-fixture.js";

const messages = [{ role: "user" as const, content: "Hello there, who are you?" }];
const tools = [
  {
    type: "function" as const,
    function: {
      name: "get_weather",
      description: "Weather in a city",
      // A bounded string: a random model rarely closes a quote by chance.
      parameters: { type: "object", properties: { city: { type: "string", maxLength: 12 }, unit: { enum: ["c", "f"] } }, required: ["city"] },
    },
  },
  { type: "function" as const, function: { name: "list_files", description: "List files", parameters: { type: "object", properties: { all: { type: "boolean" } } } } },
];

describe("model serve through the openai SDK (tiny GGUF)", () => {
  let embedded: EmbeddedProvider;
  let server: ModelServer;
  let client: OpenAI;
  const idOf = (text: string) => embedded.template.encode(text)[0];

  before(async () => {
    embedded = await createEmbeddedProvider({ model: tinyModel().ggufPath!, contextSize: 2048, sequences: 3, threads: 1 });
    server = await startModelServer({ provider: embedded, port: 0, servedModelName: "tiny" });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  after(async () => {
    await server?.close();
    await embedded?.close();
  });

  test("stream: the .stream() helper gives, chunk by chunk, the answer a plain call gives", async () => {
    const request = { model: "tiny", messages, max_tokens: 24, seed: 7, temperature: 1, logprobs: true, top_logprobs: 2 };
    // The first call fills the prompt cache; later calls evaluate only the last prompt token, whose logits differ from
    // a whole-prompt evaluation by float rounding (F16 KV cache). Compare two calls that both start from the cache.
    await client.chat.completions.create(request);
    const plain = await client.chat.completions.create(request);
    const stream = client.chat.completions.stream({ ...request, stream_options: { include_usage: true } });
    let deltas = 0;
    stream.on("content", () => deltas++);
    const streamed = await stream.finalChatCompletion();
    assert.ok(deltas >= 3, `only ${deltas} content deltas: not streamed`);
    assert.equal(streamed.choices[0].message.content, plain.choices[0].message.content);
    assert.equal(streamed.choices[0].finish_reason, plain.choices[0].finish_reason);
    assert.deepEqual(streamed.usage, plain.usage);
    const tokens = (c: OpenAI.ChatCompletion) => c.choices[0].logprobs!.content!.map((e) => [e.token, e.bytes, e.top_logprobs.length]);
    assert.deepEqual(tokens(streamed), tokens(plain));
    assert.equal(plain.choices[0].logprobs!.content!.length, plain.usage!.completion_tokens);
  });

  test("stream: raw chunks are OpenAI's chunk format, with our token ids, ending in a usage chunk", async () => {
    const chunks = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 10, seed: 3, stream: true, stream_options: { include_usage: true } });
    const all: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of chunks) all.push(chunk);
    assert.ok(all.every((c) => c.object === "chat.completion.chunk" && c.id === all[0].id));
    assert.equal(all[0].choices[0].delta.role, "assistant");
    const last = all[all.length - 1];
    assert.deepEqual(last.choices, []);
    const ids = all.flatMap((c) => (c.choices[0] as { token_ids?: number[] } | undefined)?.token_ids ?? []);
    assert.equal(ids.length, last.usage!.completion_tokens);
    assert.ok(all.some((c) => c.choices[0]?.finish_reason));
  });

  test("n > 1: n choices in one answer, streamed or not", async () => {
    const three = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 12, seed: 21, n: 3, logprobs: true });
    assert.deepEqual(three.choices.map((c) => c.index), [0, 1, 2]);
    assert.ok(new Set(three.choices.map((c) => c.message.content)).size > 1, "three seeds gave one answer");
    const total = three.choices.reduce((sum, c) => sum + c.logprobs!.content!.length, 0);
    assert.equal(three.usage!.completion_tokens, total);
    const stream = client.chat.completions.stream({ model: "tiny", messages, max_tokens: 12, seed: 21, n: 3 });
    const seen = new Set<number>();
    stream.on("chunk", (chunk) => chunk.choices.forEach((c) => seen.add(c.index)));
    const streamed = await stream.finalChatCompletion();
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
    assert.deepEqual(streamed.choices.map((c) => c.finish_reason !== null), [true, true, true]);
  });

  test("top_logprobs: k entries per token, most likely first, from the distribution the token was sampled from", async () => {
    const answer = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 16, seed: 5, logprobs: true, top_logprobs: 4 });
    const entries = answer.choices[0].logprobs!.content!;
    assert.equal(entries.length, answer.usage!.completion_tokens);
    for (const entry of entries) {
      assert.equal(entry.top_logprobs.length, 4);
      const values = entry.top_logprobs.map((t) => t.logprob);
      assert.deepEqual(values, [...values].sort((a, b) => b - a));
      assert.ok(values.every((v) => v <= 0));
      // Matched by bytes: lone byte tokens all read "\uFFFD".
      const own = entry.top_logprobs.find((t) => String(t.bytes) === String(entry.bytes));
      if (own) assert.ok(Math.abs(own.logprob - entry.logprob) < 1e-6);
      else assert.ok(entry.logprob <= values[3] + 1e-6, "a token more likely than the 4th is missing from the top 4");
    }
  });

  test("logprob bytes: a byte-level token that is half a character carries its own byte; the bytes spell the content", async () => {
    let checkedHalfCharacter = false;
    for (let seed = 0; seed < 40 && !checkedHalfCharacter; seed++) {
      const answer = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 40, seed, logprobs: true });
      const entries = answer.choices[0].logprobs!.content!;
      const ids = (answer.choices[0] as { token_ids?: number[] }).token_ids!;
      const textBytes = entries.filter((_, i) => !embedded.model.isEndOfGeneration(ids[i]) && embedded.template.decode([ids[i]]) !== "<|im_start|>");
      if (!ids.includes(idOf("<|im_start|>"))) assert.equal(Buffer.from(textBytes.flatMap((e) => e.bytes!)).toString("utf8"), answer.choices[0].message.content);
      entries.forEach((entry, i) => {
        // In the tiny vocabulary ids 0-255 are the 256 bytes; 0x80-0xFF alone are never a whole character.
        if (ids[i] >= 0x80 && ids[i] < 0x100) {
          assert.deepEqual(entry.bytes, [ids[i]]);
          assert.equal(entry.token, "\uFFFD");
          checkedHalfCharacter = true;
        }
      });
    }
    assert.ok(checkedHalfCharacter, "no completion sampled a lone byte token");
  });

  test("special tokens are never text: <|im_start|> sampled mid-answer is in the token ids, not in the content", async () => {
    const imStart = idOf("<|im_start|>");
    for (let seed = 0; seed < 200; seed++) {
      const answer = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 60, seed, temperature: 1.5 });
      const ids = (answer.choices[0] as { token_ids?: number[] }).token_ids!;
      if (!ids.includes(imStart)) continue;
      assert.ok(!answer.choices[0].message.content?.includes("<|im_start|>"), answer.choices[0].message.content ?? "");
      const streamed = await client.chat.completions.stream({ model: "tiny", messages, max_tokens: 60, seed, temperature: 1.5 }).finalChatCompletion();
      assert.equal(streamed.choices[0].message.content, answer.choices[0].message.content);
      return;
    }
    assert.fail("no completion in 200 seeds sampled <|im_start|>");
  });

  test("tool_choice 'required': a random model calls an offered tool every time, streamed or not", async () => {
    for (let seed = 0; seed < 4; seed++) {
      const answer = await client.chat.completions.create({ model: "tiny", messages, tools, tool_choice: "required", max_tokens: 200, seed, temperature: 1 });
      const choice = answer.choices[0];
      assert.equal(choice.finish_reason, "tool_calls", JSON.stringify(choice.message));
      for (const call of choice.message.tool_calls!) {
        assert.ok(call.type === "function" && ["get_weather", "list_files"].includes(call.function.name));
        assert.equal(typeof JSON.parse(call.function.arguments), "object");
      }
    }
    const stream = client.chat.completions.stream({ model: "tiny", messages, tools, tool_choice: "required", max_tokens: 200, seed: 9 });
    const done: string[] = [];
    stream.on("tool_calls.function.arguments.done", (event) => done.push(event.name));
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, "tool_calls");
    assert.deepEqual(done, final.choices[0].message.tool_calls!.map((c) => (c.type === "function" ? c.function.name : "")));
    const plain = await client.chat.completions.create({ model: "tiny", messages, tools, tool_choice: "required", max_tokens: 200, seed: 9 });
    const calls = (c: OpenAI.ChatCompletion) => c.choices[0].message.tool_calls!.map((t) => (t.type === "function" ? [t.function.name, t.function.arguments] : []));
    assert.deepEqual(calls(final), calls(plain));
  });

  test("tool_choice naming a function: exactly one call to it, with arguments of its schema", async () => {
    for (let seed = 0; seed < 4; seed++) {
      const answer = await client.chat.completions.create({
        model: "tiny",
        messages,
        tools,
        tool_choice: { type: "function", function: { name: "get_weather" } },
        max_tokens: 200,
        seed,
      });
      const calls = answer.choices[0].message.tool_calls!;
      assert.equal(calls.length, 1);
      assert.ok(calls[0].type === "function");
      assert.equal(calls[0].function.name, "get_weather");
      const args = JSON.parse(calls[0].function.arguments) as { city: unknown; unit: unknown };
      assert.equal(typeof args.city, "string");
      assert.ok(["c", "f"].includes(args.unit as string));
    }
  });

  test("bad requests are 400s the SDK raises, before any stream starts", async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ top_logprobs: 2 }, /top_logprobs needs logprobs/],
      [{ n: 17 }, /n is at most 16/],
      [{ tools, tool_choice: { type: "function", function: { name: "nope" } } }, /'nope', which is not among the tools/],
      [{ tool_choice: "required" }, /needs tools/],
      [{ stream: true, messages: [{ role: "user", content: "x".repeat(5000) }] }, /^400 \d,\d{3}-token prompt in a 2,048-token context$/],
    ];
    for (const [extra, message] of bad) {
      await assert.rejects(client.chat.completions.create({ model: "tiny", messages, max_tokens: 4, ...extra } as never), (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.match(error.message, message);
        return true;
      });
    }
  });
});
