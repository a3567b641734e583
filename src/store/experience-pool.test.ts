// The pool's search past EXACT_SEARCH_LIMIT goes through the binary-code prefilter and exact re-ranking: it finds
// what sqlite-vec's exact search finds for vectors near stored ones, follows retirements and edits, and a pool
// reopened (a new process) builds the same index from the file.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { mulberry32 } from "../core/random.js";
import { BinaryCodeIndex } from "../evolve/navigating/index.js";
import { EXACT_SEARCH_LIMIT, SqliteExperiencePool } from "./experience-pool.js";

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

test("binary-code index: nearest codes first, deletes leave the rest findable", () => {
  const index = new BinaryCodeIndex(DIMENSIONS);
  const vectors = Array.from({ length: 500 }, randomVector);
  vectors.forEach((v, id) => index.set(id, v));
  assert.equal(index.size, 500);
  assert.ok(index.nearest(nudge(vectors[42], 0.05), 5).includes(42));
  index.delete(42);
  index.delete(499);
  assert.equal(index.size, 498);
  assert.ok(!index.nearest(vectors[42], 498).includes(42));
  assert.ok(index.nearest(nudge(vectors[7], 0.05), 5).includes(7), "an entry moved into a deleted slot is still found");
});

test("a pool past the exact-search limit: the prefilter finds the exact top hits, follows retirement, survives a reopen", () => {
  const path = join(dir, "large.db");
  const pool = SqliteExperiencePool.open(path, { embedder: { id: "test", dimensions: DIMENSIONS } });
  const count = EXACT_SEARCH_LIMIT + 904;
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
