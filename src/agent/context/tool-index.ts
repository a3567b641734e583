// Nearest tools to a query vector, among one tool set. Vectors are unit length, so similarity is a dot product.
// Up to EXACT_LIMIT tools every vector is scored. Past it a coarse pass ranks all tools by the Hamming distance of
// sign codes (each vector minus the set's mean, one bit per dimension, compared 16 bits per table lookup), and only
// the closest candidates are scored exactly: a scan of 10,000 x 512 floats takes tens of milliseconds on a loaded
// CPU, the codes a small fraction of that. The bench (`--only tools`) measures the recall of this against the exact
// scan.
import type { ToolSchema } from "../../core/messages.js";

export const EXACT_LIMIT = 2048;

const POPCOUNT16 = (() => {
  const table = new Uint8Array(1 << 16);
  for (let i = 1; i < table.length; i++) table[i] = (i & 1) + table[i >> 1];
  return table;
})();

export interface ToolHit {
  /** Index into the set's tools. */
  index: number;
  score: number;
}

export class ToolIndex {
  readonly dimensions: number;
  private readonly words: number;
  private readonly mean: Float32Array;
  private readonly codes?: Uint32Array;

  /** `vectors[i]` is the unit vector of `tools[i]`. */
  constructor(
    readonly tools: readonly ToolSchema[],
    private readonly vectors: readonly Float32Array[],
  ) {
    this.dimensions = vectors[0]?.length ?? 0;
    this.words = Math.ceil(this.dimensions / 32);
    this.mean = new Float32Array(this.dimensions);
    if (tools.length > EXACT_LIMIT) {
      for (const vector of vectors) for (let j = 0; j < this.dimensions; j++) this.mean[j] += vector[j] / vectors.length;
      this.codes = new Uint32Array(vectors.length * this.words);
      vectors.forEach((vector, i) => this.writeCode(vector, this.codes!, i * this.words));
    }
  }

  get size(): number {
    return this.tools.length;
  }

  /** The k tools nearest to `query`, best first. `exact` scores every tool (what the bench compares against). */
  search(query: Float32Array, k: number, options: { exact?: boolean } = {}): ToolHit[] {
    if (k <= 0 || this.tools.length === 0) return [];
    if (!this.codes || options.exact) return this.topByDot(query, k, undefined);
    return this.topByDot(query, k, this.candidates(query, Math.max(256, 16 * k)));
  }

  private writeCode(vector: Float32Array, codes: Uint32Array, offset: number): void {
    for (let j = 0; j < this.dimensions; j++) if (vector[j] > this.mean[j]) codes[offset + (j >>> 5)] |= 1 << (j & 31);
  }

  /** The `count` tools whose codes are nearest the query's (ties at the cut all kept), by a counting sort. */
  private candidates(query: Float32Array, count: number): Int32Array {
    const n = this.tools.length;
    if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
    const code = new Uint32Array(this.words);
    this.writeCode(query, code, 0);
    const codes = this.codes!;
    const distances = new Uint16Array(n);
    const histogram = new Uint32Array(this.dimensions + 1);
    for (let i = 0, offset = 0; i < n; i++, offset += this.words) {
      let distance = 0;
      for (let w = 0; w < this.words; w++) {
        const x = (codes[offset + w] ^ code[w]) >>> 0;
        distance += POPCOUNT16[x & 0xffff] + POPCOUNT16[x >>> 16];
      }
      distances[i] = distance;
      histogram[distance]++;
    }
    let cut = 0;
    for (let seen = 0; cut <= this.dimensions; cut++) {
      seen += histogram[cut];
      if (seen >= count) break;
    }
    const picked: number[] = [];
    for (let i = 0; i < n; i++) if (distances[i] <= cut) picked.push(i);
    return Int32Array.from(picked);
  }

  private topByDot(query: Float32Array, k: number, among: Int32Array | undefined): ToolHit[] {
    const best: ToolHit[] = [];
    const count = among ? among.length : this.tools.length;
    const d = this.dimensions;
    for (let c = 0; c < count; c++) {
      const index = among ? among[c] : c;
      const vector = this.vectors[index];
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = 0;
      for (; j + 3 < d; j += 4) {
        s0 += vector[j] * query[j];
        s1 += vector[j + 1] * query[j + 1];
        s2 += vector[j + 2] * query[j + 2];
        s3 += vector[j + 3] * query[j + 3];
      }
      for (; j < d; j++) s0 += vector[j] * query[j];
      const score = s0 + s1 + s2 + s3;
      if (best.length === k && score <= best[k - 1].score) continue;
      // Insertion into a short sorted list: k is a handful.
      let at = best.length === k ? k - 1 : best.length;
      if (best.length < k) best.push({ index, score });
      while (at > 0 && best[at - 1].score < score) {
        best[at] = best[at - 1];
        at--;
      }
      best[at] = { index, score };
    }
    return best;
  }
}
