import { test } from "node:test";
import assert from "node:assert/strict";
import { OfflineEmbedder, type Embedder } from "../../llm/index.js";
import { EmbeddingDeduper, LexicalDeduper, jaccard, tokens } from "./dedup.js";
import { mixTasks, sampleWeighted } from "./mix.js";

test("lexical dedup: a near-duplicate (Jaccard at the threshold) is refused, naming the task it repeats; others pass", () => {
  const deduper = new LexicalDeduper(0.8);
  const base = "create a folder named reports then move notes.txt into reports and list the folder";
  assert.equal(deduper.add(base), undefined);
  assert.equal(deduper.add("create a folder named invoices and buy 10 shares of AAPL"), undefined);
  // One word of 14 changed: Jaccard 13/15 = 0.87 >= 0.8.
  const near = base.replace("list", "show");
  assert.ok(jaccard(tokens(base), tokens(near)) >= 0.8);
  assert.equal(deduper.add(near), 0);
  assert.equal(deduper.add(base), 0);
  assert.equal(deduper.add("book a flight from SFO to LAX on 2024-11-15 in economy"), undefined);
});

test("lexical dedup agrees with all-pairs Jaccard on 600 generated texts", () => {
  const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
  let state = 7;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) % 1000) / 1000;
  const texts = Array.from({ length: 600 }, () => Array.from({ length: 8 }, () => words[Math.floor(next() * 12)]).join(" "));
  const deduper = new LexicalDeduper(0.9);
  const kept: Set<string>[] = [];
  let disagreements = 0;
  for (const text of texts) {
    const set = tokens(text);
    const exact = kept.some((other) => jaccard(set, other) >= 0.9);
    if (!exact) kept.push(set);
    if ((deduper.add(text) !== undefined) !== exact) disagreements++;
  }
  // LSH may miss a pair at the threshold with tiny probability; it never invents one (the exact Jaccard decides).
  assert.ok(disagreements <= 3, `${disagreements} disagreements`);
});

test("embedding dedup with the offline embedder: a paraphrase is a duplicate, another request is not", { timeout: 300_000 }, async () => {
  const embedder: Embedder = await OfflineEmbedder.load();
  try {
    const deduper = new EmbeddingDeduper(embedder, 0.9);
    const kept = await deduper.addAll([
      "Create a new folder called reports.",
      "Create a new folder named reports.",
      "What is the current price of Tesla stock?",
    ]);
    assert.deepEqual(kept, [true, false, true]);
  } finally {
    await embedder.close?.();
  }
});

test("mix: the synthetic share by ratio, a short pool leaves its share to the other; zero-variance tasks drawn last", () => {
  const seed = Array.from({ length: 20 }, (_, i) => `s${i}`);
  const synthetic = Array.from({ length: 3 }, (_, i) => `t${i}`);
  const mixed = mixTasks({ seed, synthetic, count: 8, syntheticRatio: 0.5, seedWeight: () => 1, syntheticWeight: () => 1, randomSeed: 1 });
  assert.equal(mixed.synthetic.length, 3);
  assert.equal(mixed.seed.length, 5);
  const few = mixTasks({ seed: seed.slice(0, 2), synthetic: Array.from({ length: 10 }, (_, i) => `t${i}`), count: 8, syntheticRatio: 0.25, seedWeight: () => 1, syntheticWeight: () => 1, randomSeed: 1 });
  assert.deepEqual([few.seed.length, few.synthetic.length], [2, 6]);
  // Weight 0: chosen only once every task of positive weight is.
  const zero = new Set(seed.slice(0, 10));
  const picked = sampleWeighted(seed, (t) => (zero.has(t) ? 0 : 1), 10, 3);
  assert.ok(picked.every((t) => !zero.has(t)));
  // Weight 0.25 against 1: over many draws of 1 of 2, the light one is drawn about 1 time in 5.
  let light = 0;
  for (let s = 0; s < 2000; s++) if (sampleWeighted(["heavy", "light"], (t) => (t === "light" ? 0.25 : 1), 1, s)[0] === "light") light++;
  assert.ok(light > 300 && light < 500, `${light}`);
});
