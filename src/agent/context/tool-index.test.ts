import { test } from "node:test";
import assert from "node:assert/strict";
import { mulberry32 } from "../../core/random.js";
import type { ToolSchema } from "../../core/messages.js";
import { EXACT_LIMIT } from "../../core/vector-index.js";
import { LEXICAL_WEIGHT, lexicalTerms, ToolIndex } from "./tool-index.js";

function unitGaussian(random: () => number, d: number): Float32Array {
  const v = new Float32Array(d);
  let norm = 0;
  for (let i = 0; i < d; i++) {
    // Box-Muller
    v[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    norm += v[i] * v[i];
  }
  for (let i = 0; i < d; i++) v[i] /= Math.sqrt(norm);
  return v;
}

const tool = (i: number): ToolSchema => ({ type: "function", function: { name: `t${i}`, description: "", parameters: {} } });

test("exact search: the best dot products, best first", () => {
  const vectors = [Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(Math.SQRT1_2, Math.SQRT1_2)];
  const index = new ToolIndex([0, 1, 2].map(tool), vectors);
  const hits = index.search(Float32Array.of(0.8, 0.6), 2);
  assert.deepEqual(hits.map((h) => h.index), [2, 0]);
  assert.ok(Math.abs(hits[0].score - (0.8 + 0.6) * Math.SQRT1_2) < 1e-6);
  assert.deepEqual(index.search(Float32Array.of(1, 0), 0), []);
  assert.equal(index.search(Float32Array.of(1, 0), 10).length, 3);
});

test("past EXACT_LIMIT the coarse pass keeps what the exact scan finds for queries near a tool", () => {
  const random = mulberry32(7);
  const n = EXACT_LIMIT * 2;
  const d = 128;
  const vectors = Array.from({ length: n }, () => unitGaussian(random, d));
  const index = new ToolIndex(Array.from({ length: n }, (_, i) => tool(i)), vectors);
  let agree = 0;
  for (let q = 0; q < 50; q++) {
    // A query between two tools, plus noise: both should come back, as the exact scan says.
    const a = vectors[(q * 37) % n];
    const b = vectors[(q * 91 + 5) % n];
    const noise = unitGaussian(random, d);
    const query = a.map((x, i) => x + b[i] + 0.5 * noise[i]);
    const norm = Math.hypot(...query);
    const unit = query.map((x) => x / norm);
    const exact = index.search(unit, 8, { exact: true }).map((h) => h.index);
    const coarse = index.search(unit, 8).map((h) => h.index);
    assert.deepEqual(coarse.slice(0, 2).sort(), exact.slice(0, 2).sort());
    agree += coarse.filter((i) => exact.includes(i)).length;
  }
  // Recall@8 of the coarse pass against the exact scan; the bench measures it on real tool embeddings.
  assert.ok(agree / (50 * 8) > 0.5, `recall ${agree / 400}`);
});

test("shared words: BM25 over the tools' texts, scaled to 1 for the best match, adds LEXICAL_WEIGHT at most", () => {
  assert.deepEqual(lexicalTerms("Move the files into my 'temp' directory, please"), ["move", "file", "temp", "directory"]);
  assert.deepEqual(lexicalTerms("get_stock_info (get_stock_info)"), ["get", "stock", "info", "get", "stock", "info"]);
  const vectors = [Float32Array.of(1, 0), Float32Array.of(0.9, Math.sqrt(1 - 0.81)), Float32Array.of(0, 1)];
  const texts = ["send a message", "cd: change the directory", "post a tweet"];
  const index = new ToolIndex([0, 1, 2].map(tool), vectors, texts);
  const query = Float32Array.of(1, 0);
  // By the vectors alone tool 0 wins; "directory" is only in tool 1's text: 0.9 + 0.5 beats 1.0.
  assert.deepEqual(index.search(query, 1).map((h) => h.index), [0]);
  const [best] = index.search(query, 1, { terms: lexicalTerms("open my directory") });
  assert.equal(best.index, 1);
  assert.ok(Math.abs(best.score - (0.9 + LEXICAL_WEIGHT)) < 1e-6);
  // Words no tool has change nothing; an index without texts ignores words.
  assert.deepEqual(index.search(query, 3, { terms: ["zebra"] }), index.search(query, 3));
  assert.deepEqual(new ToolIndex([0, 1, 2].map(tool), vectors).search(query, 1, { terms: ["directory"] })[0].index, 0);
});

test("past EXACT_LIMIT a tool found only by its words is still a candidate", () => {
  const random = mulberry32(3);
  const n = EXACT_LIMIT + 500;
  const vectors = Array.from({ length: n }, () => unitGaussian(random, 64));
  const query = unitGaussian(random, 64);
  // Tool 1234 is only somewhat near the query (cosine about 0.3): below the best by vectors, first with its word.
  const noise = unitGaussian(random, 64);
  const mixed = query.map((x, i) => 0.3 * x + 0.95 * noise[i]);
  vectors[1234] = mixed.map((x) => x / Math.hypot(...mixed));
  assert.notEqual(new ToolIndex(Array.from({ length: n }, (_, i) => tool(i)), vectors).search(query, 1, { exact: true })[0].index, 1234);
  const texts = vectors.map((_, i) => (i === 1234 ? "the one tool that can defragment" : `tool number ${i}`));
  const index = new ToolIndex(Array.from({ length: n }, (_, i) => tool(i)), vectors, texts);
  const hits = index.search(query, 4, { terms: ["defragment"] });
  assert.equal(hits[0].index, 1234);
  assert.deepEqual(hits, index.search(query, 4, { terms: ["defragment"], exact: true }));
});
