// Nearest tools to a query, among one tool set: the dot product of unit vectors, plus (when the index was given the
// tools' texts and the search the query's words) LEXICAL_WEIGHT times a BM25 score over the tools' words, scaled so
// that the best-matching tool gets 1. The small offline embedder alone places a request near tools of the right kind
// but often misses the terse ones (cd, mv, cat); shared words ("directory", "tweet", "ticket") find them: on BFCL at
// 1,000 tools recall@8 went from 0.53 to 0.72 (bench: --only tools).
// Up to EXACT_LIMIT tools every vector is scored. Past it a coarse pass ranks all tools by the Hamming distance of
// sign codes (each vector minus the set's mean, one bit per dimension, compared 16 bits per table lookup), and only
// the closest candidates, and the best lexical matches, are scored exactly: a scan of 10,000 x 512 floats takes tens
// of milliseconds on a loaded CPU, the codes a small fraction of that. The bench (`--only tools`) measures the recall
// of this against the exact scan.
import type { ToolSchema } from "../../core/messages.js";

export const EXACT_LIMIT = 2048;
export const LEXICAL_WEIGHT = 0.5;

const STOP_WORDS = new Set(
  "a an and any are as at be by can do does for from i in into is it its me my now of on or please so that the then there this to want what when which will with would you your".split(" "),
);

/** Lower-case words of a text, names split at underscores, without stop words, a plural s dropped. */
export function lexicalTerms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== "" && !STOP_WORDS.has(word))
    .map((word) => (word.length > 3 && word.endsWith("s") && !word.endsWith("ss") ? word.slice(0, -1) : word));
}

/** BM25 over the tools' words (k1 1.2, b 0.75). */
class LexicalIndex {
  private readonly postings = new Map<string, { index: number; count: number }[]>();
  private readonly lengths: Float32Array;
  private readonly averageLength: number;

  constructor(texts: readonly string[]) {
    this.lengths = new Float32Array(texts.length);
    texts.forEach((text, index) => {
      const counts = new Map<string, number>();
      const terms = lexicalTerms(text);
      for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
      for (const [term, count] of counts) {
        let list = this.postings.get(term);
        if (!list) this.postings.set(term, (list = []));
        list.push({ index, count });
      }
      this.lengths[index] = terms.length;
    });
    this.averageLength = this.lengths.reduce((a, b) => a + b, 0) / Math.max(1, texts.length);
  }

  /** Every tool's score divided by the best one's (0 where no word matches), and the tools that match. */
  scores(terms: readonly string[]): LexicalScores {
    const n = this.lengths.length;
    const scores = new Float32Array(n);
    const matched: number[] = [];
    for (const term of new Set(terms)) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
      for (const { index, count } of list) {
        if (scores[index] === 0) matched.push(index);
        scores[index] += (idf * count * 2.2) / (count + 1.2 * (0.25 + (0.75 * this.lengths[index]) / this.averageLength));
      }
    }
    let best = 0;
    for (const index of matched) best = Math.max(best, scores[index]);
    if (best > 0) for (const index of matched) scores[index] /= best;
    return { scores, matched };
  }
}

interface LexicalScores {
  scores: Float32Array;
  matched: number[];
}

/**
 * The `count` best of `matched` by score (all of them when fewer), by a histogram of the scores in [0, 1]. Many
 * tools share a score (every "create_*" matches "create" alike), so the bucket at the cut is taken only up to
 * `count`: each candidate costs a full dot product.
 */
function bestMatches({ scores, matched }: LexicalScores, count: number): number[] {
  if (matched.length <= count) return matched;
  const buckets = 1024;
  const histogram = new Uint32Array(buckets + 1);
  for (const index of matched) histogram[Math.floor(scores[index] * buckets)]++;
  let cut = buckets;
  for (let seen = 0; cut > 0; cut--) {
    seen += histogram[cut];
    if (seen >= count) break;
  }
  const picked = matched.filter((index) => Math.floor(scores[index] * buckets) > cut);
  for (const index of matched) {
    if (picked.length >= count) break;
    if (Math.floor(scores[index] * buckets) === cut) picked.push(index);
  }
  return picked;
}

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
  private readonly lexical?: LexicalIndex;

  /** `vectors[i]` is the unit vector of `tools[i]`; `texts[i]`, when given, its text for lexical matching. */
  constructor(
    readonly tools: readonly ToolSchema[],
    private readonly vectors: readonly Float32Array[],
    texts?: readonly string[],
  ) {
    if (texts) this.lexical = new LexicalIndex(texts);
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

  /**
   * The k tools nearest to `query` (and to `terms`, the query's words, where the index has texts), best first.
   * `exact` scores every tool (what the bench compares against).
   */
  search(query: Float32Array, k: number, options: { exact?: boolean; terms?: readonly string[] } = {}): ToolHit[] {
    if (k <= 0 || this.tools.length === 0) return [];
    const lexical = this.lexical && options.terms ? this.lexical.scores(options.terms) : undefined;
    if (!this.codes || options.exact) return this.topByScore(query, k, undefined, lexical?.scores);
    const count = Math.max(256, 16 * k);
    const candidates = new Set(this.candidates(query, count));
    if (lexical) for (const index of bestMatches(lexical, count)) candidates.add(index);
    return this.topByScore(query, k, Int32Array.from(candidates), lexical?.scores);
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

  private topByScore(query: Float32Array, k: number, among: Int32Array | undefined, lexical: Float32Array | undefined): ToolHit[] {
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
      const score = s0 + s1 + s2 + s3 + (lexical ? LEXICAL_WEIGHT * lexical[index] : 0);
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
