// Training batches from two pools: seed tasks (the environment's own) and accepted synthetic tasks, by a configured
// ratio. Within each pool a task the policy always or never solved in its last group (zero reward variance: GRPO
// learns nothing from it) is drawn with a lower weight. Seeded: the same run picks the same tasks, resumed or not.
import { mulberry32 } from "../../core/random.js";

/** `count` distinct items drawn by weight without replacement (Efraimidis-Spirakis keys u^(1/w)); an item of weight
 * 0 comes only after every positive one. */
export function sampleWeighted<T>(items: readonly T[], weight: (item: T) => number, count: number, seed: number): T[] {
  const random = mulberry32(seed);
  const keyed = items.map((item, index) => {
    const w = weight(item);
    const u = random();
    return { item, index, key: w > 0 ? Math.log(u) / w : -Infinity };
  });
  keyed.sort((a, b) => b.key - a.key || a.index - b.index);
  return keyed.slice(0, Math.min(count, items.length)).map((k) => k.item);
}

export interface MixOptions<S, T> {
  seed: readonly S[];
  synthetic: readonly T[];
  count: number;
  /** Fraction of `count` from the synthetic pool. */
  syntheticRatio: number;
  /** A task's weight (1, or the zero-variance weight). */
  seedWeight: (task: S) => number;
  syntheticWeight: (task: T) => number;
  randomSeed: number;
}

/** The iteration's seed and synthetic tasks. A pool that runs short leaves its share to the other. */
export function mixTasks<S, T>(options: MixOptions<S, T>): { seed: S[]; synthetic: T[] } {
  const wanted = Math.round(options.count * options.syntheticRatio);
  const syntheticCount = Math.min(wanted, options.synthetic.length);
  const seedCount = Math.min(options.count - syntheticCount, options.seed.length);
  const topUp = Math.min(options.count - seedCount - syntheticCount, options.synthetic.length - syntheticCount);
  return {
    seed: sampleWeighted(options.seed, options.seedWeight, seedCount, options.randomSeed),
    synthetic: sampleWeighted(options.synthetic, options.syntheticWeight, syntheticCount + Math.max(0, topUp), options.randomSeed ^ 0x5bd1e995),
  };
}
