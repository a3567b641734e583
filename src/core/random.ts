// Seeded randomness. Every choice that must depend only on a seed goes through here, on every platform: which tasks
// a run or an evaluation picks, the sampling seed of each rollout, the key-chain secret, random tiny-model weights.
import { createHash } from "node:crypto";

/** mulberry32: a small, fast seeded generator of uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 31-bit seed from any list of parts: the same parts give the same seed in every process. */
export function deriveSeed(...parts: (string | number)[]): number {
  const digest = createHash("sha256").update(parts.join("\u0000")).digest();
  return digest.readUInt32LE(0) & 0x7fffffff;
}

/**
 * The one seeded sampler: `count` items of `pool` by a seeded shuffle, without replacement up to the pool's size
 * and with replacement past it (each further pass is a fresh shuffle). Each item's place depends only on the seed
 * and its own index, so the same seed picks the same items from the same pool.
 */
export function sampleSeeded<T>(pool: readonly T[], count: number, seed: number): T[] {
  if (pool.length === 0) return [];
  const picked: T[] = [];
  for (let round = 0; picked.length < count; round++) {
    const order = pool.map((item, index) => ({ item, key: deriveSeed(seed, round, index) }));
    order.sort((a, b) => a.key - b.key);
    for (const { item } of order) {
      if (picked.length === count) break;
      picked.push(item);
    }
  }
  return picked;
}
