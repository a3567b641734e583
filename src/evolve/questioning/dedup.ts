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
// Int32 throughout: V8 keeps these in small-integer form (unsigned values above 2^31 would be boxed doubles, ten
// times slower). The minimum of signed values is as good a min-hash as the unsigned one.
const MULTIPLIERS = Int32Array.from({ length: PERMUTATIONS }, (_, i) => fnv(`a${i}`) | 1);
const OFFSETS = Int32Array.from({ length: PERMUTATIONS }, (_, i) => fnv(`b${i}`) | 0);

function minHash(set: Set<string>): Int32Array {
  const signature = new Int32Array(PERMUTATIONS).fill(0x7fffffff);
  for (const token of set) {
    const x = fnv(token) | 0;
    for (let i = 0; i < PERMUTATIONS; i++) {
      const h = (Math.imul(MULTIPLIERS[i], x) + OFFSETS[i]) | 0;
      if (h < signature[i]) signature[i] = h;
    }
  }
  return signature;
}

function bandKey(signature: Int32Array, band: number): string {
  let key = String(band);
  for (let i = band * ROWS; i < (band + 1) * ROWS; i++) key += `:${signature[i]}`;
  return key;
}

/** Accepts texts one by one, refusing one whose token Jaccard with an accepted text reaches `threshold`. LSH banding
 * proposes the pairs (16 bands of 4 rows: a pair at Jaccard 0.8 shares a band with probability 0.9997), and the exact
 * Jaccard decides. */
export class LexicalDeduper {
  private readonly sets: Set<string>[] = [];
  private readonly signatures: Int32Array[] = [];
  private readonly buckets = new Map<string, number[]>();

  private readonly allowedDisagreement: number;

  constructor(readonly threshold = 0.9) {
    this.allowedDisagreement = Math.floor(PERMUTATIONS * (1 - Math.max(0, threshold - 0.2)));
  }

  /** The index of the accepted text this one duplicates, or undefined (then it is accepted). */
  add(text: string): number | undefined {
    const set = tokens(text);
    const signature = minHash(set);
    const keys: string[] = [];
    const seen = new Set<number>();
    for (let band = 0; band < BANDS; band++) {
      const key = bandKey(signature, band);
      keys.push(key);
      for (const index of this.buckets.get(key) ?? []) {
        if (seen.has(index)) continue;
        seen.add(index);
        // The signatures' agreement estimates the Jaccard (standard error <= 0.0625 at 64 hashes): once it cannot
        // come within 0.2 of the threshold, the pair is passed over without the exact count.
        const other = this.signatures[index];
        let disagree = 0;
        for (let i = 0; i < PERMUTATIONS && disagree <= this.allowedDisagreement; i++) if (other[i] !== signature[i]) disagree++;
        if (disagree > this.allowedDisagreement) continue;
        if (jaccard(set, this.sets[index]) >= this.threshold) return index;
      }
    }
    const index = this.sets.length;
    this.sets.push(set);
    this.signatures.push(signature);
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
