import { test } from "node:test";
import assert from "node:assert/strict";
import { EvolverError } from "../core/errors.js";
import { OfflineEmbedder } from "./embedder-offline.js";
import { OpenAIEmbedder } from "./embedder-openai.js";
import { createEmbedder } from "./embedders.js";
import { runEmbedderContract } from "./test-support/embedder-contract.js";
import { startEmbeddingServer } from "./test-support/embedding-server.js";

let shared: Promise<OfflineEmbedder> | undefined;
const offline = () => (shared ??= OfflineEmbedder.load());

runEmbedderContract({ name: "offline (use-lite)", setup: async () => ({ embedder: await offline(), close: async () => undefined }) });

// The OpenAI client against a real HTTP server of the /v1/embeddings wire format, which answers with the offline model.
runEmbedderContract({
  name: "openai client via an /v1/embeddings server",
  setup: async () => {
    const server = await startEmbeddingServer(await offline(), { model: "use" });
    const embedder = await createEmbedder("openai:use", { baseUrl: server.url });
    assert.equal(embedder.dimensions, 512); // learnt from the probe call
    return { embedder, close: () => server.close() };
  },
});

test("the OpenAI embedder sends batches of batchSize and names a missing model", async () => {
  const server = await startEmbeddingServer(await offline(), { model: "use" });
  try {
    const embedder = await OpenAIEmbedder.open({ model: "use", baseURL: server.url, apiKey: "k", batchSize: 4 });
    const before = server.requests;
    await embedder.embed(Array.from({ length: 10 }, (_, i) => `text ${i}`));
    assert.equal(server.requests - before, 3);
    await assert.rejects(OpenAIEmbedder.open({ model: "nope", baseURL: server.url, apiKey: "k", maxRetries: 0 }), (error) =>
      EvolverError.isInstance(error) && error.code === "LLM_MODEL_NOT_FOUND" && /nope/.test(error.message));
  } finally {
    await server.close();
  }
});

test("embedder specs: unknown forms are refused with the forms that exist", async () => {
  await assert.rejects(createEmbedder("bert"), (error) => EvolverError.isInstance(error) && error.code === "LLM_EMBEDDER_SPEC" && /use-lite.*openai:<model>/.test(error.message));
  await assert.rejects(createEmbedder("openai:"), /unknown embedder/);
  await assert.rejects(OpenAIEmbedder.open({ model: "m", baseURL: "http://127.0.0.1:9/v1", maxRetries: 0 }), (error) => EvolverError.isInstance(error) && error.code === "LLM_UNAVAILABLE");
});
