import { test } from "node:test";
import assert from "node:assert/strict";
import { mulberry32 } from "../../core/random.js";
import type { ToolSchema } from "../../core/messages.js";
import { EXACT_LIMIT, ToolIndex } from "./tool-index.js";

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
