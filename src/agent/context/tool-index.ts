// Nearest tools to a query, among one tool set: the dot product of unit vectors, plus (when the index was given the
// tools' texts and the search the query's words) LEXICAL_WEIGHT times a BM25 score over the tools' words, scaled so
// that the best-matching tool gets 1. The small offline embedder alone places a request near tools of the right kind
// but often misses the terse ones (cd, mv, cat); shared words ("directory", "tweet", "ticket") find them: on BFCL at
// 1,000 tools recall@8 went from 0.53 to 0.72 (bench: --only tools).
// The vectors go into the same in-memory VectorIndex as the experience pool's (src/core/vector-index.ts): up to its
// EXACT_LIMIT every tool is scored, past it a Hamming pass over sign codes picks candidates, to which the best lexical
// matches are added; the few best are re-scored with the exact vectors. The bench (`--only tools`) measures the
// recall of this against the exact scan of every vector.
import type { ToolSchema } from "../../core/messages.js";
import { dot, VectorIndex } from "../../core/vector-index.js";

export const LEXICAL_WEIGHT = 0.5;
/** Hits of the index re-scored with the exact vectors, beyond the k asked for. */
const RERANK_EXTRA = 8;

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

export interface ToolHit {
  /** Index into the set's tools. */
  index: number;
  score: number;
}

export class ToolIndex {
  readonly dimensions: number;
  private readonly index?: VectorIndex;
  private readonly lexical?: LexicalIndex;

  /** `vectors[i]` is the unit vector of `tools[i]`; `texts[i]`, when given, its text for lexical matching. */
  constructor(
    readonly tools: readonly ToolSchema[],
    private readonly vectors: readonly Float32Array[],
    texts?: readonly string[],
  ) {
    if (texts) this.lexical = new LexicalIndex(texts);
    this.dimensions = vectors[0]?.length ?? 0;
    if (this.dimensions > 0) {
      const index = new VectorIndex(this.dimensions);
      vectors.forEach((vector, i) => index.set(i, vector));
      this.index = index;
    }
  }

  get size(): number {
    return this.tools.length;
  }

  /**
   * The k tools nearest to `query` (and to `terms`, the query's words, where the index has texts), best first.
   * `exact` scores every tool with its exact vector (what the bench compares against).
   */
  search(query: Float32Array, k: number, options: { exact?: boolean; terms?: readonly string[] } = {}): ToolHit[] {
    if (k <= 0 || !this.index) return [];
    const lexical = this.lexical && options.terms ? this.lexical.scores(options.terms) : undefined;
    const score = (index: number) => dot(this.vectors[index], query) + (lexical ? LEXICAL_WEIGHT * lexical.scores[index] : 0);
    let among: Iterable<number>;
    if (options.exact) {
      among = this.tools.keys();
    } else {
      const count = Math.max(256, 16 * k);
      among = this.index
        .search(query, k + RERANK_EXTRA, {
          candidates: count,
          include: lexical ? bestMatches(lexical, count) : undefined,
          bonus: lexical ? (index) => LEXICAL_WEIGHT * lexical.scores[index] : undefined,
        })
        .map((hit) => hit.id);
    }
    const hits: ToolHit[] = [];
    for (const index of among) hits.push({ index, score: score(index) });
    return hits.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
  }
}
