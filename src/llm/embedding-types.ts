// The one embedding interface: self-navigating's experience pool, self-questioning's dedup and tool retrieval all
// take an `Embedder` as a parameter, whatever model stands behind it (an offline model shipped in an npm package,
// or an OpenAI-compatible /v1/embeddings endpoint).

export interface Embedder {
  /** Names the model, e.g. "openai:text-embedding-3-small"; stored beside vectors so that vectors of two models are
   * never compared. */
  readonly id: string;
  /** Length of every vector `embed` returns. */
  readonly dimensions: number;
  /** One unit-length vector per text, in order (cosine similarity is then a dot product). */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  close?(): Promise<void>;
}
