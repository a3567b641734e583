// A small OpenAI-compatible /v1/embeddings server over any Embedder, for testing the OpenAI embedder against a real
// HTTP server (the wire format, batching, index order, errors). Binds 127.0.0.1 on a free port.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { Embedder } from "../embedding-types.js";

const EmbeddingRequest = z.object({
  model: z.string(),
  input: z.union([z.string(), z.array(z.string())]),
  encoding_format: z.enum(["float", "base64"]).optional(),
});

export async function startEmbeddingServer(embedder: Embedder, options: { model: string }): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const state = { requests: 0 };
  const server = createServer(async (request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (request.method !== "POST" || request.url !== "/v1/embeddings") return send(404, { error: { message: `no route ${request.method} ${request.url}` } });
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const parsed = EmbeddingRequest.safeParse(JSON.parse(Buffer.concat(chunks).toString() || "null"));
    if (!parsed.success) return send(400, { error: { message: z.prettifyError(parsed.error) } });
    if (parsed.data.model !== options.model) return send(404, { error: { message: `The model '${parsed.data.model}' does not exist` } });
    state.requests += 1;
    const texts = typeof parsed.data.input === "string" ? [parsed.data.input] : parsed.data.input;
    const vectors = await embedder.embed(texts);
    // Answered in reverse order with their indices, as servers may: the client must sort by index.
    const data = vectors.map((vector, index) => ({ object: "embedding", index, embedding: Array.from(vector) })).reverse();
    send(200, { object: "list", data, model: options.model, usage: { prompt_tokens: 0, total_tokens: 0 } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
