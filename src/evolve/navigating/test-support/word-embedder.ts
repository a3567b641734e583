// A deterministic embedder for unit tests: words hashed into 64 buckets, scaled to unit length. Texts that share
// words are similar, texts that do not are nearly orthogonal, and nothing is loaded.
import type { Embedder } from "../../../llm/index.js";

export function wordEmbedder(dimensions = 64): Embedder & { calls: number } {
  const embedder = {
    id: `test:words-${dimensions}`,
    dimensions,
    calls: 0,
    async embed(texts: readonly string[]) {
      embedder.calls += 1;
      return texts.map((text) => {
        const vector = new Float32Array(dimensions);
        for (const word of text.toLowerCase().match(/[a-z0-9_]+/g) ?? []) {
          let h = 2166136261;
          for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619) >>> 0;
          vector[h % dimensions] += 1;
        }
        const norm = Math.hypot(...vector) || 1;
        return vector.map((x) => x / norm);
      });
    },
  };
  return embedder;
}
