// Nearest unit vectors by dot product (cosine), in memory: the one index behind experience retrieval (the pool in
// SQLite stays the store; this is loaded from it once and kept in step) and tool retrieval.
//
// Each vector is held twice, compactly: int8 components with one scale per vector (512 dims → 512 bytes, a quarter of
// float32; the dot product it gives is within ~1e-3 of the exact one), and sign bits of the vector minus the index's
// mean (512 dims → 64 bytes), kept in WebAssembly memory for the Hamming scan (src/core/hamming.ts). Up to
// EXACT_LIMIT vectors every int8 vector is scored. Past it a coarse pass ranks all vectors by the Hamming distance of
// their bits to the query's (the bits of two vectors agree more the smaller the angle between them) and only the
// closest candidates are scored: on 100,000 vectors the scan takes well under 1 ms of CPU, scoring them all ~40.
// The mean is re-taken (and every code rewritten) each time the index has doubled since it was last taken: real
// embeddings share a common direction, and bits of uncentred vectors would mostly agree whatever the text.
// Callers that hold exact vectors re-rank the few hits with `dot`; the benches report recall against exact search.
// Pure: no I/O.
import { HammingKernel } from "./hamming.js";

export const EXACT_LIMIT = 2048;

export interface VectorHit {
  id: number;
  /** Dot product with the query, from the int8 vector (plus the caller's bonus, where given). */
  score: number;
}

export interface VectorSearchOptions {
  /** Score every vector (the reference the coarse pass is measured against). */
  exact?: boolean;
  /** How many candidates the coarse pass hands to scoring; default max(256, 16k). */
  candidates?: number;
  /** Ids scored whatever the coarse pass says (a caller's other evidence, e.g. shared words). */
  include?: Iterable<number>;
  /** Added to an id's dot product (e.g. a lexical score). */
  bonus?: (id: number) => number;
}

export class VectorIndex {
  /** 32-bit words per code: whole 64-bit words, as the kernel reads them. */
  private readonly words: number;
  private count = 0;
  private capacity = 0;
  private ids = new Int32Array(0);
  private readonly slot = new Map<number, number>();
  private quantized = new Int8Array(0);
  private scales = new Float32Array(0);
  /** Sum of the live vectors, for the mean the codes are taken against. */
  private readonly sum: Float64Array;
  private readonly mean: Float32Array;
  private centeredAt = 0;
  // Kernel memory: the query's code at 0, then one u16 distance per slot, then the codes.
  private readonly kernel = new HammingKernel();
  private distancesAt = 0;
  private codesAt = 0;
  private codes = new Uint32Array(0);

  constructor(readonly dimensions: number) {
    if (!Number.isInteger(dimensions) || dimensions <= 0) throw new Error(`a vector index needs a positive dimension count, not ${dimensions}`);
    this.words = 2 * Math.ceil(dimensions / 64);
    this.sum = new Float64Array(dimensions);
    this.mean = new Float32Array(dimensions);
    this.grow(256);
  }

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    return this.slot.has(id);
  }

  /** Adds or replaces the vector of `id`. */
  set(id: number, vector: Float32Array): void {
    if (vector.length !== this.dimensions) throw new Error(`a ${vector.length}-d vector for an index of ${this.dimensions}-d vectors`);
    let at = this.slot.get(id);
    if (at === undefined) {
      if (this.count === this.capacity) this.grow(2 * this.capacity);
      at = this.count++;
      this.slot.set(id, at);
      this.ids[at] = id;
    } else {
      this.addToSum(at, -1);
    }
    const d = this.dimensions;
    let largest = 0;
    for (let j = 0; j < d; j++) largest = Math.max(largest, Math.abs(vector[j]));
    const scale = largest > 0 ? largest / 127 : 1;
    for (let j = 0; j < d; j++) this.quantized[at * d + j] = Math.round(vector[j] / scale);
    this.scales[at] = scale;
    this.addToSum(at, 1);
    this.writeCode(at);
  }

  delete(id: number): void {
    const at = this.slot.get(id);
    if (at === undefined) return;
    this.addToSum(at, -1);
    // The last entry moves into the hole, so every scan stays dense.
    const last = --this.count;
    if (at !== last) {
      const { words, dimensions: d } = this;
      this.codes.copyWithin(at * words, last * words, (last + 1) * words);
      this.quantized.copyWithin(at * d, last * d, (last + 1) * d);
      this.scales[at] = this.scales[last];
      this.ids[at] = this.ids[last];
      this.slot.set(this.ids[at], at);
    }
    this.slot.delete(id);
  }

  /** The k best ids by dot product (plus bonus), best first. */
  search(query: Float32Array, k: number, options: VectorSearchOptions = {}): VectorHit[] {
    if (query.length !== this.dimensions) throw new Error(`a ${query.length}-d query for an index of ${this.dimensions}-d vectors`);
    if (k <= 0 || this.count === 0) return [];
    let slots: Int32Array | undefined;
    if (!options.exact && this.count > EXACT_LIMIT) {
      slots = this.candidateSlots(query, options.candidates ?? Math.max(256, 16 * k));
      if (options.include) {
        const extra: number[] = [];
        const seen = new Set(slots);
        for (const id of options.include) {
          const at = this.slot.get(id);
          if (at !== undefined && !seen.has(at)) extra.push(at), seen.add(at);
        }
        if (extra.length > 0) {
          const all = new Int32Array(slots.length + extra.length);
          all.set(slots);
          all.set(extra, slots.length);
          slots = all;
        }
      }
    }
    return this.best(query, k, slots, options.bonus);
  }

  /** Ids of the `count` vectors whose codes are nearest the query's (all ids when there are no more). */
  candidates(query: Float32Array, count: number): number[] {
    return Array.from(this.candidateSlots(query, count), (at) => this.ids[at]);
  }

  private candidateSlots(query: Float32Array, count: number): Int32Array {
    const n = this.count;
    if (count >= n) return Int32Array.from({ length: n }, (_, i) => i);
    if (n >= 2 * this.centeredAt) this.recenter();
    const code = new Uint32Array(this.kernel.buffer, 0, this.words);
    code.fill(0);
    for (let j = 0; j < this.dimensions; j++) if (query[j] > this.mean[j]) code[j >>> 5] |= 1 << (j & 31);
    this.kernel.distances(this.codesAt, n, this.words / 2, 0, this.distancesAt);
    const distances = new Uint16Array(this.kernel.buffer, this.distancesAt, n);
    const histogram = new Uint32Array(this.words * 32 + 1);
    for (let i = 0; i < n; i++) histogram[distances[i]]++;
    // A counting select: below the cut all, at the cut as many as fit.
    let cut = 0;
    let below = 0;
    while (below + histogram[cut] < count) below += histogram[cut++];
    let atCut = count - below;
    const picked = new Int32Array(count);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const distance = distances[i];
      if (distance < cut || (distance === cut && atCut-- > 0)) picked[p++] = i;
    }
    return picked;
  }

  private best(query: Float32Array, k: number, slots: Int32Array | undefined, bonus: ((id: number) => number) | undefined): VectorHit[] {
    const hits: VectorHit[] = [];
    const total = slots ? slots.length : this.count;
    const d = this.dimensions;
    const q = this.quantized;
    for (let c = 0; c < total; c++) {
      const at = slots ? slots[c] : c;
      const offset = at * d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let j = 0;
      for (; j + 3 < d; j += 4) {
        s0 += q[offset + j] * query[j];
        s1 += q[offset + j + 1] * query[j + 1];
        s2 += q[offset + j + 2] * query[j + 2];
        s3 += q[offset + j + 3] * query[j + 3];
      }
      for (; j < d; j++) s0 += q[offset + j] * query[j];
      const id = this.ids[at];
      const score = (s0 + s1 + s2 + s3) * this.scales[at] + (bonus ? bonus(id) : 0);
      if (hits.length === k && score <= hits[k - 1].score) continue;
      // Insertion into a short sorted list: k is a handful.
      let i = hits.length === k ? k - 1 : hits.length;
      if (hits.length < k) hits.push({ id, score });
      while (i > 0 && hits[i - 1].score < score) {
        hits[i] = hits[i - 1];
        i--;
      }
      hits[i] = { id, score };
    }
    return hits;
  }

  private addToSum(at: number, sign: 1 | -1): void {
    const d = this.dimensions;
    const scale = sign * this.scales[at];
    for (let j = 0; j < d; j++) this.sum[j] += this.quantized[at * d + j] * scale;
  }

  private recenter(): void {
    for (let j = 0; j < this.dimensions; j++) this.mean[j] = this.sum[j] / this.count;
    for (let at = 0; at < this.count; at++) this.writeCode(at);
    this.centeredAt = this.count;
  }

  private writeCode(at: number): void {
    const { words, dimensions: d, quantized, mean, codes } = this;
    const scale = this.scales[at];
    const offset = at * words;
    codes.fill(0, offset, offset + words);
    for (let j = 0; j < d; j++) if (quantized[at * d + j] * scale > mean[j]) codes[offset + (j >>> 5)] |= 1 << (j & 31);
  }

  private grow(capacity: number): void {
    const ids = new Int32Array(capacity);
    ids.set(this.ids);
    this.ids = ids;
    const quantized = new Int8Array(capacity * this.dimensions);
    quantized.set(this.quantized);
    this.quantized = quantized;
    const scales = new Float32Array(capacity);
    scales.set(this.scales);
    this.scales = scales;
    // The codes move up to make room for the longer distance array; copyWithin handles the overlap.
    const codeBytes = 4 * this.words;
    const distancesAt = codeBytes;
    const codesAt = distancesAt + 8 * Math.ceil((2 * capacity) / 8);
    this.kernel.reserve(codesAt + capacity * codeBytes);
    new Uint8Array(this.kernel.buffer).copyWithin(codesAt, this.codesAt, this.codesAt + this.count * codeBytes);
    this.distancesAt = distancesAt;
    this.codesAt = codesAt;
    this.codes = new Uint32Array(this.kernel.buffer, codesAt, capacity * this.words);
    this.capacity = capacity;
  }
}

/** Dot product of two vectors of the same length (cosine similarity of unit vectors). */
export function dot(a: Float32Array, b: Float32Array): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let j = 0;
  for (; j + 3 < a.length; j += 4) {
    s0 += a[j] * b[j];
    s1 += a[j + 1] * b[j + 1];
    s2 += a[j + 2] * b[j + 2];
    s3 += a[j + 3] * b[j + 3];
  }
  for (; j < a.length; j++) s0 += a[j] * b[j];
  return s0 + s1 + s2 + s3;
}
