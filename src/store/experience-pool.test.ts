// The pool's search goes through the in-memory vector index and exact re-ranking: past the index's exact limit it
// finds what sqlite-vec's exact search finds for vectors near stored ones, with the same similarities; it follows
// retirements and edits, a pool reopened (a new process) builds the same index from the file, and a write by
// another connection (a second run sharing the pool) is seen by the next search.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { mulberry32 } from "../core/random.js";
import { EXACT_LIMIT } from "../core/vector-index.js";
import { SqliteExperiencePool } from "./experience-pool.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-experience-pool-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const random = mulberry32(5);
const DIMENSIONS = 64;
const unit = (v: Float32Array) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const randomVector = () => unit(Float32Array.from({ length: DIMENSIONS }, () => random() - 0.5));
const nudge = (v: Float32Array, by: number) => unit(v.map((x) => x + by * (random() - 0.5)));

test("a pool past the index's exact limit: the search finds the exact top hits, follows retirement, survives a reopen", () => {
  const path = join(dir, "large.db");
  const pool = SqliteExperiencePool.open(path, { embedder: { id: "test", dimensions: DIMENSIONS } });
  const count = 2 * EXACT_LIMIT + 904;
  const vectors = Array.from({ length: count }, randomVector);
  pool.add(
    vectors.map((vector, i) => ({ experience: { whenToUse: `w${i}`, content: "c", origin: "success" as const, sourceTrajectories: [], sourceTasks: [], extractor: "test" }, vector })),
    { runId: null, iteration: null },
  );
  for (const target of [3, 1000, 4500]) {
    const query = nudge(vectors[target], 0.1);
    const found = pool.search(query, { k: 3, threshold: -1 });
    const exact = pool.exactSearch(query, 3);
    assert.equal(found[0].experience.id, target + 1);
    assert.equal(found[0].experience.id, exact[0].id);
    assert.ok(Math.abs(found[0].similarity - exact[0].similarity) < 1e-5);
  }
  pool.setStatus(1001, "retired", "test");
  assert.notEqual(pool.search(nudge(vectors[1000], 0.1), { k: 1, threshold: -1 })[0]?.experience.id, 1001);
  pool.close();
  const reopened = SqliteExperiencePool.open(path, { embedder: { id: "test", dimensions: DIMENSIONS } });
  assert.equal(reopened.search(nudge(vectors[4500], 0.1), { k: 1, threshold: -1 })[0].experience.id, 4501);
  assert.notEqual(reopened.search(nudge(vectors[1000], 0.1), { k: 1, threshold: -1 })[0]?.experience.id, 1001);
  reopened.close();
});

test("edits and another connection's writes reach the next search", () => {
  const path = join(dir, "shared.db");
  const experience = (i: number) => ({ whenToUse: `w${i}`, content: "c", origin: "success" as const, sourceTrajectories: [], sourceTasks: [], extractor: "test" });
  const vectors = Array.from({ length: 50 }, randomVector);
  const first = SqliteExperiencePool.open(path, { embedder: { id: "test", dimensions: DIMENSIONS } });
  first.add(vectors.slice(0, 40).map((vector, i) => ({ experience: experience(i), vector })), { runId: null, iteration: null });
  assert.equal(first.search(vectors[5], { k: 1, threshold: -1 })[0].experience.id, 6);
  // A new vector for experience 6 moves it: the old one no longer finds it first.
  first.update(6, { vector: vectors[45] });
  assert.equal(first.search(vectors[45], { k: 1, threshold: -1 })[0].experience.id, 6);
  assert.notEqual(first.search(vectors[5], { k: 1, threshold: 0.99 })[0]?.experience.id, 6);
  const second = SqliteExperiencePool.open(path, { embedder: { id: "test", dimensions: DIMENSIONS } });
  const [added] = second.add([{ experience: experience(48), vector: vectors[48] }], { runId: null, iteration: null });
  second.setStatus(1, "retired", "test");
  second.close();
  const found = first.search(vectors[48], { k: 1, threshold: -1 })[0];
  assert.equal(found.experience.id, added.id);
  assert.ok(Math.abs(found.similarity - 1) < 1e-5);
  assert.notEqual(first.search(vectors[0], { k: 1, threshold: -1 })[0].experience.id, 1);
  first.close();
});
