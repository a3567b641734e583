// Keeping the pool useful: a new experience whose when_to_use says what an active one already says (vectors at
// least merge_threshold similar) is merged into the older one, except that what worked (origin success) replaces an
// older note of what failed there (origin failure): retrieval gives a context one experience, and the answer that
// worked is worth more than a list of those that did not. And an experience whose guided rollouts succeed less
// often than the unguided rollouts of the same groups, by more than a margin over enough uses, is retired. Neither
// deletes anything: a merged or retired experience stays in the pool, out of retrieval, with a note saying why.
import type { ExperiencePool } from "./pool.js";
import type { Experience, ExperienceUsage } from "./schema.js";

export interface MaintenanceReport {
  merged: number;
  retired: number;
}

/** Merges each of `added` into the most similar older active experience, where one is similar enough; a success
 * supersedes an older failure instead (the failure is merged into it). */
export function mergeNearDuplicates(pool: ExperiencePool, added: readonly Experience[], mergeThreshold: number): number {
  let merged = 0;
  for (const experience of added) {
    const vector = pool.vector(experience.id);
    if (!vector) continue;
    const older = pool
      .search(vector, { k: 4, threshold: mergeThreshold })
      .find((s) => s.experience.id !== experience.id && s.experience.id < experience.id);
    if (!older) continue;
    if (experience.origin === "success" && older.experience.origin === "failure") {
      pool.setStatus(older.experience.id, "merged", `superseded by #${experience.id}, what worked there (similarity ${older.similarity.toFixed(3)})`);
      pool.countMerge(experience.id);
      merged += 1;
      continue;
    }
    pool.setStatus(experience.id, "merged", `merged into #${older.experience.id} (similarity ${older.similarity.toFixed(3)})`);
    pool.countMerge(older.experience.id);
    merged += 1;
  }
  return merged;
}

/** Success rate with the experience minus the rate of comparable rollouts without it; undefined before any use. */
export function usageLift(usage: ExperienceUsage): number | undefined {
  if (usage.guided === 0 || usage.unguided === 0) return undefined;
  return usage.guidedSuccesses / usage.guided - usage.unguidedSuccesses / usage.unguided;
}

export function retireHarmful(pool: ExperiencePool, options: { minUses: number; margin: number }): number {
  let retired = 0;
  const active = new Set(pool.list({ status: "active" }).map((e) => e.id));
  for (const usage of pool.usage()) {
    if (!active.has(usage.experienceId) || usage.guided < options.minUses) continue;
    const lift = usageLift(usage);
    if (lift === undefined || lift >= -options.margin) continue;
    const note =
      `retired: guided rollouts succeeded ${usage.guidedSuccesses}/${usage.guided}, ` +
      `comparable unguided ones ${usage.unguidedSuccesses}/${usage.unguided} (lift ${lift.toFixed(2)} < -${options.margin})`;
    pool.setStatus(usage.experienceId, "retired", note);
    retired += 1;
  }
  return retired;
}
