// Deterministic choices of a run, derived from its seed: which tasks an iteration trains on, and the sampling seed
// of each rollout. A resumed run makes the same choices, so the rollouts it still owes are the ones it would have made.
import { createHash } from "node:crypto";

/** A 31-bit seed from any list of parts. */
export function deriveSeed(...parts: (string | number)[]): number {
  const digest = createHash("sha256").update(parts.join("\u0000")).digest();
  return digest.readUInt32LE(0) & 0x7fffffff;
}

/** `count` items of `pool`, sampled without replacement (with replacement past its size), by a seeded shuffle. */
export function sampleFromPool<T>(pool: readonly T[], count: number, seed: number): T[] {
  if (pool.length === 0) return [];
  const picked: T[] = [];
  let round = 0;
  while (picked.length < count) {
    const order = pool.map((item, index) => ({ item, key: deriveSeed(seed, round, index) }));
    order.sort((a, b) => a.key - b.key);
    for (const { item } of order) {
      if (picked.length === count) break;
      picked.push(item);
    }
    round += 1;
  }
  return picked;
}
