// Tool calls per family through the embedded model and `evolver model serve`: tiny random-weight models with a real
// family's tokenizer and a chat template that teaches that family's call syntax (Llama 3.1 JSON over Llama 3.1's
// tokenizer; Mistral's [TOOL_CALLS] over Llama 2's; test-support/tool-families.ts). A random model writes calls only
// when made to, so tool_choice's grammar (in the family's syntax) makes it; the calls must then come back parsed,
// streamed and whole alike.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { createEmbeddedProvider, type EmbeddedProvider } from "./embedded-provider.js";
import { startModelServer, type ModelServer } from "./serve.js";
import { toolFamilies, writeToolFamilyModel } from "./test-support/tool-families.js";
import { parseToolCalls } from "./tool-calls.js";


const messages = [
  { role: "system" as const, content: "You keep count." },
  { role: "user" as const, content: "Add 2, then read the count." },
];
// Small argument schemas: a random model under a JSON grammar fills free-form strings and objects until max_tokens.
const tools = [
  {
    type: "function" as const,
    function: { name: "increment", description: "Adds by", parameters: { type: "object", properties: { by: { type: "integer", enum: [1, 2, 3] } }, required: ["by"] } },
  },
  { type: "function" as const, function: { name: "read_count", description: "The count", parameters: { type: "object", properties: { verbose: { type: "boolean" } } } } },
];

for (const family of toolFamilies) {
  describe(`${family.name}: tool calls through the embedded model and model serve`, { timeout: 900_000 }, () => {
    let dir: string;
    let embedded: EmbeddedProvider;
    let server: ModelServer;
    let client: OpenAI;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "evolver-family-tools-"));
      const files = writeToolFamilyModel(dir, family);
      embedded = await createEmbeddedProvider({ model: files.ggufPath!, contextSize: 2048, sequences: 2, threads: 1 });
      server = await startModelServer({ provider: embedded, port: 0, servedModelName: "tiny" });
      client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    });
    after(async () => {
      await server?.close();
      await embedded?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test("the GGUF's template teaches the family's syntax, and the provider reads it", () => {
      assert.equal(embedded.template.toolCallSyntax, family.syntax);
      assert.equal(embedded.toolCallSyntax, family.syntax);
    });

    test("tool_choice 'required': the model writes the family's calls, the provider parses them from that text", async () => {
      for (let seed = 0; seed < 2; seed++) {
        const completion = await embedded.chat({ messages, tools, toolChoice: "required", maxTokens: 300, seed, temperature: 1 });
        assert.match(completion.rawText!, family.starts, completion.rawText);
        assert.equal(completion.finishReason, "tool_calls", completion.rawText);
        const calls = completion.message.tool_calls!;
        assert.ok(calls.length >= 1);
        for (const call of calls) {
          assert.ok(["increment", "read_count"].includes(call.function.name), call.function.name);
          assert.equal(typeof JSON.parse(call.function.arguments), "object");
        }
        // The arguments are the model's text, cut out as written.
        assert.deepEqual(calls.map((c) => c.function.arguments), parseToolCalls(family.syntax, completion.rawText!, { makeId: String }).toolCalls.map((c) => c.function.arguments));
        assert.equal(completion.message.content, "");
      }
    });

    test("model serve: a named function is called once; streamed calls equal the whole answer's", async () => {
      const named = await client.chat.completions.create({ model: "tiny", messages, tools, tool_choice: { type: "function", function: { name: "increment" } }, max_tokens: 300, seed: 1 });
      const calls = named.choices[0].message.tool_calls!;
      assert.equal(calls.length, 1);
      assert.ok(calls[0].type === "function" && calls[0].function.name === "increment");
      assert.equal(typeof (JSON.parse(calls[0].function.arguments) as { by: unknown }).by, "number");

      const request = { model: "tiny", messages, tools, tool_choice: "required" as const, max_tokens: 300, seed: 9 };
      const plain = await client.chat.completions.create(request);
      const stream = client.chat.completions.stream(request);
      const done: string[] = [];
      stream.on("tool_calls.function.arguments.done", (event) => done.push(event.name));
      const streamed = await stream.finalChatCompletion();
      const wire = (c: OpenAI.ChatCompletion) => c.choices[0].message.tool_calls!.map((t) => (t.type === "function" ? [t.function.name, t.function.arguments] : []));
      assert.equal(streamed.choices[0].finish_reason, "tool_calls");
      assert.deepEqual(wire(streamed), wire(plain));
      assert.deepEqual(done, wire(plain).map(([name]) => name));
    });

    test("an answer that is not a call keeps its text whole", async () => {
      for (let seed = 0; seed < 3; seed++) {
        const completion = await embedded.chat({ messages, tools, maxTokens: 16, seed, temperature: 1 });
        if (completion.message.tool_calls) continue;
        assert.equal(completion.message.content, completion.rawText);
      }
    });
  });
}
