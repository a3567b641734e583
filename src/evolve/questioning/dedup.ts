// Near-duplicate tasks are dropped twice: lexically (token Jaccard, found through MinHash with LSH banding so that
// ten thousand candidates are not compared pair by pair) and by meaning (cosine similarity of embeddings from any
// Embedder). A task's text is its requests and its reference solution, so two tasks that ask the same words of
// different arguments stay apart.
import type { TaskSpec } from "../../env/index.js";
import type { Embedder } from "../../llm/index.js";

export function taskText(spec: TaskSpec): string {
  const solution = spec.solution.flatMap((turn) => turn.map((a) => ("name" in a ? `${a.name} ${JSON.stringify(a.arguments)}` : a.text)));
  return [...spec.turns, ...solution].join(" \n ");
}

export function tokens(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}_.]+/gu) ?? []);
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const token of a) if (b.has(token)) shared++;
  return shared / (a.size + b.size - shared);
}

// FNV-1a of a token, then one cheap mixing per permutation: h_i(x) = (a_i * x + b_i) mod 2^32 with odd a_i.
function fnv(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

const PERMUTATIONS = 64;
const BANDS = 16;
const ROWS = PERMUTATIONS / BANDS;
const MULTIPLIERS = Array.from({ length: PERMUTATIONS }, (_, i) => (fnv(`a${i}`) | 1) >>> 0);
const OFFSETS = Array.from({ length: PERMUTATIONS }, (_, i) => fnv(`b${i}`));

function minHash(set: Set<string>): Uint32Array {
  const signature = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  for (const token of set) {
    const x = fnv(token);
    for (let i = 0; i < PERMUTATIONS; i++) {
      const h = (Math.imul(MULTIPLIERS[i], x) + OFFSETS[i]) >>> 0;
      if (h < signature[i]) signature[i] = h;
    }
  }
  return signature;
}

/** Accepts texts one by one, refusing one whose token Jaccard with an accepted text reaches `threshold`. LSH banding
 * proposes the pairs (16 bands of 4 rows: a pair at Jaccard 0.8 shares a band with probability 0.9997), and the exact
 * Jaccard decides. */
export class LexicalDeduper {
  private readonly sets: Set<string>[] = [];
  private readonly buckets = new Map<string, number[]>();

  constructor(readonly threshold = 0.9) {}

  /** The index of the accepted text this one duplicates, or undefined (then it is accepted). */
  add(text: string): number | undefined {
    const set = tokens(text);
    const signature = minHash(set);
    const keys: string[] = [];
    const seen = new Set<number>();
    for (let band = 0; band < BANDS; band++) {
      const key = `${band}:${Array.from(signature.subarray(band * ROWS, (band + 1) * ROWS)).join(",")}`;
      keys.push(key);
      for (const index of this.buckets.get(key) ?? []) {
        if (seen.has(index)) continue;
        seen.add(index);
        if (jaccard(set, this.sets[index]) >= this.threshold) return index;
      }
    }
    const index = this.sets.length;
    this.sets.push(set);
    for (const key of keys) {
      const bucket = this.buckets.get(key);
      if (bucket) bucket.push(index);
      else this.buckets.set(key, [index]);
    }
    return undefined;
  }
}

/** Accepts texts whose embedding's cosine with every accepted one stays below `threshold`. */
export class EmbeddingDeduper {
  private readonly vectors: Float32Array[] = [];

  constructor(
    private readonly embedder: Embedder,
    readonly threshold = 0.97,
  ) {}

  /** For each text in order: whether it was accepted (it is then compared against later ones too). */
  async addAll(texts: string[], signal?: AbortSignal): Promise<boolean[]> {
    if (texts.length === 0) return [];
    const vectors = await this.embedder.embed(texts, { signal });
    return vectors.map((vector) => {
      for (const other of this.vectors) {
        let dot = 0;
        for (let i = 0; i < vector.length; i++) dot += vector[i] * other[i];
        if (dot >= this.threshold) return false;
      }
      this.vectors.push(vector);
      return true;
    });
  }
}
