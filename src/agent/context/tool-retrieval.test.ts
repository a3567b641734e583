// The pieces of tool-retrieval with a small deterministic embedder (character trigrams hashed into 64 dimensions):
// what is offered, what search_tools answers, and the vector cache. Retrieval quality with the real embedder is
// measured on BFCL (src/agent/rollout-tool-retrieval.test.ts, `npm run bench -- --only tools`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChatMessage, ToolSchema } from "../../core/messages.js";
import type { Embedder } from "../../llm/embedding-types.js";
import { createContextStrategy } from "./index.js";
import { ToolEmbeddings, toolText } from "./tool-embeddings.js";
import { SEARCH_TOOLS_NAME } from "./tool-retrieval.js";
import { startEmbeddingServer } from "../../llm/test-support/embedding-server.js";

function trigramEmbedder(): Embedder & { texts: string[] } {
  const texts: string[] = [];
  return {
    id: "trigram-64",
    dimensions: 64,
    texts,
    async embed(batch) {
      texts.push(...batch);
      return batch.map((text) => {
        const v = new Float32Array(64);
        const t = ` ${text.toLowerCase()} `;
        for (let i = 0; i + 3 <= t.length; i++) {
          let h = 7;
          for (const ch of t.slice(i, i + 3)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
          v[h % 64] += 1;
        }
        const norm = Math.hypot(...v) || 1;
        return v.map((x) => x / norm);
      });
    },
  };
}

const tool = (name: string, description: string, params: string[] = []): ToolSchema => ({
  type: "function",
  function: { name, description, parameters: { type: "object", properties: Object.fromEntries(params.map((p) => [p, { type: "string" }])) } },
});

const tools = [
  tool("send_message", "Send a message to a user.", ["receiver_id", "message"]),
  tool("mv", "Move a file or directory.", ["source", "destination"]),
  tool("get_stock_info", "Get the details of a stock.", ["symbol"]),
  tool("book_flight", "Book a flight for the traveller.", ["travel_from", "travel_to"]),
  tool("fill_fuel_tank", "Fill the fuel tank of the car.", ["fuel_amount"]),
  tool("post_tweet", "Post a tweet on the social network.", ["content"]),
];

test("toolText: name as words, description, parameter names", () => {
  assert.equal(toolText(tools[0]), "send message (send_message): Send a message to a user. Parameters: receiver_id, message.");
});

test("tool vectors are embedded once: in memory, then from the disk cache in a new process; a changed tool is new", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-tool-cache-"));
  try {
    const embedder = trigramEmbedder();
    const first = new ToolEmbeddings({ embedder, cacheDir: dir });
    const vectors = await first.vectorsOf(tools);
    assert.equal(embedder.texts.length, tools.length);
    await first.vectorsOf(tools.map((t) => structuredClone(t)));
    assert.equal(embedder.texts.length, tools.length, "same texts, other objects: no embedding");

    // A torn record at the end (a killed writer) is ignored.
    appendFileSync(join(dir, readdirSync(dir)[0]), Buffer.from([1, 2, 3]));
    const again = new ToolEmbeddings({ embedder, cacheDir: dir });
    assert.equal(again.size, tools.length);
    assert.deepEqual(await again.vectorsOf(tools), vectors);
    assert.equal(embedder.texts.length, tools.length);

    const changed = tool("mv", "Move a file or a directory somewhere else.", ["source", "destination"]);
    await again.vectorsOf([changed, ...tools]);
    assert.deepEqual(embedder.texts.slice(tools.length), [toolText(changed)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("select: the k nearest to the latest request, plus tools called or found earlier, in the environment's order", async () => {
  const strategy = createContextStrategy("tool-retrieval:1", { toolRetrieval: { embedder: trigramEmbedder(), cacheDir: null } });
  const selection = strategy.toolSelection!;
  assert.deepEqual(selection.metaTools.map((t) => t.function.name), [SEARCH_TOOLS_NAME]);
  const history: ChatMessage[] = [
    { role: "system", content: "Help." },
    { role: "user", content: "Send a message to my friend." },
  ];
  const first = await selection.select({ history, pinned: 2, available: tools });
  assert.deepEqual(first.tools.map((t) => t.function.name), ["send_message"]);
  assert.ok(first.searchMs >= 0 && first.queryMs >= 0 && first.indexMs >= 0);

  history.push(
    { role: "assistant", content: "", tool_calls: [
      { id: "a", type: "function", function: { name: "send_message", arguments: "{}" } },
      { id: "b", type: "function", function: { name: SEARCH_TOOLS_NAME, arguments: '{"query": "stock"}' } },
    ] },
    { role: "tool", tool_call_id: "a", name: "send_message", content: "sent" },
    { role: "tool", tool_call_id: "b", name: SEARCH_TOOLS_NAME, content: '[{"name": "get_stock_info", "description": "Get the details of a stock."}]' },
    { role: "user", content: "Now book a flight to Paris." },
  );
  const second = await selection.select({ history, pinned: 2, available: tools });
  assert.deepEqual(second.tools.map((t) => t.function.name), ["send_message", "get_stock_info", "book_flight"]);
  // A tool the environment no longer offers is not offered, whatever the history says.
  const fewer = await selection.select({ history, pinned: 2, available: tools.filter((t) => t.function.name !== "get_stock_info") });
  assert.deepEqual(fewer.tools.map((t) => t.function.name), ["send_message", "book_flight"]);
});

test("search_tools: names and descriptions of the best matches, a tool named exactly first; bad arguments are explained", async () => {
  const strategy = createContextStrategy("tool-retrieval:2", { toolRetrieval: { embedder: trigramEmbedder(), cacheDir: null, searchResults: 2 } });
  const selection = strategy.toolSelection!;
  const call = (args: string) => ({ id: "s", type: "function" as const, function: { name: SEARCH_TOOLS_NAME, arguments: args } });
  const fuel = JSON.parse(await selection.answer(call('{"query": "fill the fuel tank of my car"}'), tools)) as { name: string; description: string }[];
  assert.equal(fuel.length, 2);
  assert.deepEqual(fuel[0], { name: "fill_fuel_tank", description: "Fill the fuel tank of the car." });
  const named = JSON.parse(await selection.answer(call('{"query": "mv"}'), tools)) as { name: string }[];
  assert.equal(named[0].name, "mv");
  assert.match(await selection.answer(call('{"q": 1}'), tools), /^Error: search_tools takes \{"query"/);
  assert.match(await selection.answer(call("not json"), tools), /^Error: search_tools takes/);
});

test("an embedder spec (rollout.tool_retrieval.embedder): tools and requests are embedded by that server", async () => {
  const embedder = trigramEmbedder();
  const server = await startEmbeddingServer(embedder, { model: "trigram" });
  try {
    const strategy = createContextStrategy("tool-retrieval:1", { toolRetrieval: { embedderSpec: { spec: "openai:trigram", baseUrl: server.url }, cacheDir: null } });
    const history: ChatMessage[] = [{ role: "user", content: "Fill the fuel tank of my car." }];
    const selected = await strategy.toolSelection!.select({ history, pinned: 1, available: tools });
    assert.deepEqual(selected.tools.map((t) => t.function.name), ["fill_fuel_tank"]);
    assert.ok(server.requests >= 2, "the tool texts and the request went to the server");
    assert.ok(embedder.texts.includes(toolText(tools[0])) && embedder.texts.includes("Fill the fuel tank of my car."));
  } finally {
    await server.close();
  }
});
