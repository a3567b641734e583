// Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, vLLM, llama.cpp's server, Ollama, TEI) as an Embedder,
// through the official SDK, whose retries (429, 5xx, connection errors; backoff with jitter) are kept on here. The
// vector length is learnt from one probe call when the embedder is opened, so every vector of a pool is checked
// against it. The API key is never logged or put in an error message.
import OpenAI from "openai";
import type { Embedder } from "./embedding-types.js";
import { llmError } from "./errors.js";
import { unitVector } from "./embedder-offline.js";

export interface OpenAIEmbedderOptions {
  model: string;
  /** Default: OPENAI_BASE_URL, else the SDK's default (api.openai.com). */
  baseURL?: string;
  /** Default: OPENAI_API_KEY; servers without auth accept any value ("none" is sent when neither is set). */
  apiKey?: string;
  /** Texts per request. Default 64. */
  batchSize?: number;
  /** Retries after the first try. Default 4. */
  maxRetries?: number;
  /** Per try. Default 60 s. */
  timeoutMs?: number;
}

export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  private readonly client: OpenAI;
  private readonly batchSize: number;

  private constructor(private readonly options: OpenAIEmbedderOptions, readonly dimensions: number, client: OpenAI) {
    this.id = `openai:${options.model}`;
    this.client = client;
    this.batchSize = options.batchSize ?? 64;
  }

  /** Opens the embedder with one probe call, which also checks that the endpoint and the model are there. */
  static async open(options: OpenAIEmbedderOptions): Promise<OpenAIEmbedder> {
    const client = new OpenAI({
      baseURL: options.baseURL ?? process.env.OPENAI_BASE_URL ?? undefined,
      apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? "none",
      maxRetries: options.maxRetries ?? 4,
      timeout: options.timeoutMs ?? 60_000,
    });
    const probe = new OpenAIEmbedder(options, 0, client);
    const [vector] = await probe.request(["dimension probe"]);
    return new OpenAIEmbedder(options, vector.length, client);
  }

  async embed(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = await this.request(texts.slice(start, start + this.batchSize), options.signal);
      for (const vector of batch) {
        if (this.dimensions > 0 && vector.length !== this.dimensions) {
          throw llmError("LLM_BAD_REQUEST", `${this.id} returned a vector of ${vector.length} values, expected ${this.dimensions}`);
        }
        vectors.push(vector);
      }
    }
    return vectors;
  }

  private async request(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    let response: { data?: { index?: number; embedding?: unknown }[] };
    try {
      // float, not the SDK's default base64: every compatible server speaks floats, not all speak base64
      response = await this.client.embeddings.create({ model: this.options.model, input: [...texts], encoding_format: "float" }, { signal });
    } catch (error) {
      throw this.mapError(error, signal);
    }
    const rows = [...(response.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    if (rows.length !== texts.length || !rows.every((row) => Array.isArray(row.embedding) && row.embedding.every((x) => typeof x === "number"))) {
      throw llmError("LLM_BAD_REQUEST", `${this.id} answered ${rows.length} embeddings for ${texts.length} texts, or not as arrays of numbers`);
    }
    return rows.map((row) => unitVector(row.embedding as number[]));
  }

  private mapError(error: unknown, signal?: AbortSignal) {
    const details = { model: this.options.model };
    if (signal?.aborted || error instanceof OpenAI.APIUserAbortError) return llmError("LLM_ABORTED", "the call was aborted", { details, cause: error });
    if (error instanceof OpenAI.APIConnectionTimeoutError) return llmError("LLM_TIMEOUT", "no answer from the embedding server in time", { details, cause: error });
    if (error instanceof OpenAI.APIConnectionError) return llmError("LLM_UNAVAILABLE", `cannot reach the embedding server: ${error.message}`, { details, cause: error });
    if (error instanceof OpenAI.APIError) {
      const said = `${error.status ?? ""} ${error.message}`.trim();
      const status = error.status;
      if (status === 401 || status === 403) return llmError("LLM_AUTH", `the embedding server refused the credentials (${said})`, { details, cause: error });
      if (status === 404) return llmError("LLM_MODEL_NOT_FOUND", `embedding model '${this.options.model}' not found (${said})`, { details, cause: error });
      if (status === 400 || status === 422) return llmError("LLM_BAD_REQUEST", `the embedding server rejected the request (${said})`, { details, cause: error });
      return llmError("LLM_UNAVAILABLE", `the embedding server failed (${said})`, { details, cause: error });
    }
    return error;
  }
}
