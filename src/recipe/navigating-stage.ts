// Self-navigating in the loop. Training rollouts of an iteration read the pool (η of each group guided); once they
// are in, each group's outcomes are recorded against the experiences its guided rollouts used, the group's
// experiences are extracted (rule or LLM) and added with their provenance, near-duplicates are merged and harmful
// experiences retired. Held-out rollouts may read the pool and never write it; only training-split trajectories
// reach the extractor. Every write is keyed by run, iteration and group and done once, so a resumed run neither
// loses nor duplicates an experience.
import { join, resolve } from "node:path";
import { rolloutError, type ExperienceHook, type Trajectory } from "../agent/index.js";
import {
  createExperienceHook,
  extractByRule,
  guidedShare,
  mergeNearDuplicates,
  retireHarmful,
  type ExperienceExtractor,
  type NewExperience,
} from "../evolve/navigating/index.js";
import { createEmbedder, type Embedder } from "../llm/index.js";
import { SqliteExperiencePool } from "../store/index.js";
import type { EvolveConfig } from "./config.js";

export interface Navigation {
  pool: SqliteExperiencePool;
  embedder: Embedder;
  /** The hook of an iteration's training rollouts (records what each rollout was given). */
  trainHook(iteration: number): ExperienceHook;
  /** The hook of held-out rollouts: reads only; undefined when they run unguided. */
  evalHook(): ExperienceHook | undefined;
  /** After an iteration's training rollouts: outcomes, extraction, maintenance. Returns metrics. */
  learn(iteration: number, trajectories: readonly Trajectory[], signal?: AbortSignal): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** The run's pool file: navigating.pool (made absolute by prepareRun), else experiences.db in the run's folder. */
export function poolPath(config: EvolveConfig, runId: string): string {
  return config.navigating.pool ?? join(resolve(config.run.output_dir, runId), "experiences.db");
}

export async function openNavigation(options: {
  config: EvolveConfig;
  runId: string;
  extractor?: ExperienceExtractor;
  /** Default: the one navigating.embedder names. */
  embedder?: Embedder;
  log: (line: string) => void;
}): Promise<Navigation | undefined> {
  const { config, runId } = options;
  const settings = config.navigating;
  if (!settings.enabled) return undefined;
  const embedder = options.embedder ?? (await createEmbedder(settings.embedder, { baseUrl: settings.embedder_base_url }));
  let pool: SqliteExperiencePool;
  try {
    pool = SqliteExperiencePool.open(poolPath(config, runId), { embedder });
  } catch (error) {
    await embedder.close?.();
    throw error;
  }
  const extract: ExperienceExtractor = options.extractor ?? { id: "rule", extract: async (group) => ({ experiences: extractByRule(group), invalid: 0 }) };
  const hook = (guided: (sampleIndex: number) => boolean, record?: { runId: string; iteration: number }) =>
    createExperienceHook({ pool, embedder, k: settings.k, threshold: settings.threshold, placement: settings.placement, guided, record });
  return {
    pool,
    embedder,
    trainHook: (iteration) => hook(guidedShare(settings.eta, config.rollout.group_size), { runId, iteration }),
    evalHook: () => (settings.eval_guided ? hook(() => true) : undefined),
    async learn(iteration, trajectories, signal) {
      const metrics: Record<string, number> = { "navigating/guided": 0, "navigating/added": 0, "navigating/merged": 0, "navigating/retired": 0, "navigating/invalid": 0 };
      const groups = new Map<string, Trajectory[]>();
      for (const trajectory of trajectories) {
        if (rolloutError(trajectory) !== undefined) continue;
        groups.set(trajectory.groupKey, [...(groups.get(trajectory.groupKey) ?? []), trajectory]);
      }
      for (const [groupKey, group] of groups) {
        const key = (sampleIndex: number) => ({ runId, iteration, groupKey, sampleIndex });
        const used = new Set<number>();
        for (const t of group) if (t.experienceGuided) for (const id of pool.retrieval(key(t.sampleIndex)) ?? []) used.add(id);
        for (const t of group) {
          if (t.experienceGuided) metrics["navigating/guided"] += 1;
          const ids = t.experienceGuided ? (pool.retrieval(key(t.sampleIndex)) ?? []) : [...used];
          pool.recordOutcome(key(t.sampleIndex), t.id, t.experienceGuided, ids, t.success);
        }
        const workKey = `extract/${runId}/${iteration}/${groupKey}`;
        if (pool.isClaimed(workKey)) continue;
        const { experiences, invalid } = await extract.extract(group, { signal });
        metrics["navigating/invalid"] += invalid;
        const vectors = experiences.length > 0 ? await embedder.embed(experiences.map((e) => e.whenToUse), { signal }) : [];
        const added = pool.add(experiences.map((experience: NewExperience, i) => ({ experience, vector: vectors[i] })), { runId, iteration, workKey });
        metrics["navigating/added"] += added.length;
        metrics["navigating/merged"] += mergeNearDuplicates(pool, added, settings.merge_threshold);
      }
      metrics["navigating/retired"] = pool.transaction(() =>
        pool.claim(`maintain/${runId}/${iteration}`) ? retireHarmful(pool, { minUses: settings.retire_min_uses, margin: settings.retire_margin }) : 0,
      );
      metrics["navigating/pool_size"] = pool.list({ status: "active" }).length;
      return metrics;
    },
    async close() {
      pool.close();
      await embedder.close?.();
    },
  };
}
