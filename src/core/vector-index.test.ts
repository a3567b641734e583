// The vector index: the WebAssembly Hamming kernel agrees with plain JavaScript; the int8 scores are the dot products
// to within quantization; past EXACT_LIMIT the coarse pass finds what scoring every vector finds; ids added,
// replaced and deleted (an entry moved into a deleted slot, the codes moved when the index grows) stay findable.
import assert from "node:assert/strict";
import { test } from "node:test";
import { HammingKernel, hammingReference } from "./hamming.js";
import { mulberry32 } from "./random.js";
import { dot, EXACT_LIMIT, VectorIndex } from "./vector-index.js";

const random = mulberry32(3);
const unit = (v: Float32Array) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const randomVector = (d: number) => unit(Float32Array.from({ length: d }, () => random() - 0.5));
const nudge = (v: Float32Array, by: number) => unit(v.map((x) => x + by * (random() - 0.5)));

test("the Hamming kernel counts the differing bits as plain JavaScript does", () => {
  const kernel = new HammingKernel();
  const n = 1000;
  const words32 = 6; // three 64-bit words
  kernel.reserve(64 + 2 * n + 4 * words32 * n);
  const query = new Uint32Array(kernel.buffer, 0, words32);
  const codes = new Uint32Array(kernel.buffer, 64 + 2 * n, words32 * n);
  for (let i = 0; i < words32; i++) query[i] = (random() * 2 ** 32) >>> 0;
  for (let i = 0; i < codes.length; i++) codes[i] = (random() * 2 ** 32) >>> 0;
  codes.set(query, 0); // distance 0
  codes.set(query.map((x) => ~x >>> 0), words32); // distance 192
  kernel.distances(64 + 2 * n, n, words32 / 2, 0, 64);
  const got = new Uint16Array(kernel.buffer, 64, n);
  assert.deepEqual(Array.from(got), Array.from(hammingReference(codes, n, words32, query)));
  assert.equal(got[0], 0);
  assert.equal(got[1], 192);
});

test("small index: every vector scored, int8 scores within 1e-2 of the exact dot products, best first", () => {
  const index = new VectorIndex(3);
  index.set(10, Float32Array.of(1, 0, 0));
  index.set(20, Float32Array.of(0, 1, 0));
  index.set(30, unit(Float32Array.of(1, 1, 0)));
  const hits = index.search(unit(Float32Array.of(0.8, 0.6, 0)), 2);
  assert.deepEqual(hits.map((h) => h.id), [30, 10]);
  assert.ok(Math.abs(hits[0].score - 1.4 * Math.SQRT1_2) < 1e-2);
  assert.deepEqual(index.search(Float32Array.of(1, 0, 0), 0), []);
  assert.equal(index.search(Float32Array.of(1, 0, 0), 10).length, 3);
  // A bonus can reorder; replacing a vector moves its id.
  assert.equal(index.search(Float32Array.of(1, 0, 0), 1, { bonus: (id) => (id === 20 ? 2 : 0) })[0].id, 20);
  index.set(10, Float32Array.of(0, 0, 1));
  assert.equal(index.search(Float32Array.of(0, 0, 1), 1)[0].id, 10);
  assert.throws(() => index.search(Float32Array.of(1, 0), 1), /2-d query/);
});

test("past EXACT_LIMIT the coarse pass finds the exact top hits, through deletes and growth", () => {
  // Vectors around 300 topics, as embedded texts cluster: the neighbours of a query are its topic's.
  const d = 128;
  const n = 3 * EXACT_LIMIT;
  const topics = Array.from({ length: 300 }, () => randomVector(d));
  const vectors = Array.from({ length: n }, (_, i) => nudge(topics[i % topics.length], 0.2));
  const index = new VectorIndex(d);
  vectors.forEach((v, id) => index.set(id, v));
  let agree = 0;
  for (let q = 0; q < 40; q++) {
    const query = nudge(vectors[(q * 97) % n], 0.3);
    const exact = vectors.map((v, id) => ({ id, score: dot(v, query) })).sort((a, b) => b.score - a.score).slice(0, 5);
    const found = index.search(query, 5);
    assert.equal(found[0].id, exact[0].id);
    assert.ok(Math.abs(found[0].score - exact[0].score) < 1e-2);
    agree += found.filter((f) => exact.some((e) => e.id === f.id)).length;
  }
  assert.ok(agree / 200 > 0.9, `recall@5 ${agree / 200}`);
  // Deleting moves the last entry into the hole; both stay consistent.
  index.delete(42);
  index.delete(n - 1);
  assert.equal(index.size, n - 2);
  assert.ok(!index.has(42));
  assert.notEqual(index.search(vectors[42], 1)[0].id, 42);
  assert.equal(index.search(nudge(vectors[n - 2], 0.1), 1)[0].id, n - 2);
  // An id that only `include` brings in is scored even when the coarse pass drops it.
  const far = index.search(vectors[7], 1, { candidates: 1, include: [9], bonus: (id) => (id === 9 ? 5 : 0) });
  assert.equal(far[0].id, 9);
});
