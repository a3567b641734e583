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
  createLlmExtractor,
  semanticAdvantage,
  extractByRule,
  guidedShare,
  mergeNearDuplicates,
  retireHarmful,
  RULE_EXTRACTOR_ID,
  type ExperienceExtractor,
  type NewExperience,
} from "../evolve/navigating/index.js";
import { createPolicyModel } from "../agent/index.js";
import { EvolverError } from "../core/errors.js";
import { createEmbedder, type Embedder, type LlmProvider } from "../llm/index.js";
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
  /** Training-free mode: groups update the pool through this model's semantic advantage instead of an extractor. */
  semantic?: LlmProvider;
  log: (line: string) => void;
}): Promise<Navigation | undefined> {
  const { config, runId } = options;
  const settings = config.navigating;
  if (!settings.enabled) return undefined;
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  let pool: SqliteExperiencePool;
  let embedder: Embedder;
  let extract: ExperienceExtractor;
  try {
    embedder = options.embedder ?? (await createEmbedder(settings.embedder, { baseUrl: settings.embedder_base_url }));
    closers.push(async () => embedder.close?.());
    pool = SqliteExperiencePool.open(poolPath(config, runId), { embedder });
    closers.push(async () => pool.close());
    extract = options.extractor ?? (await openExtractor(config, closers));
  } catch (error) {
    await closeAll();
    throw error;
  }
  const hook = (guided: (sampleIndex: number) => boolean, record?: { runId: string; iteration: number }) =>
    createExperienceHook({ pool, embedder, k: settings.k, threshold: settings.threshold, placement: settings.placement, retrieval: settings.retrieval, minWordOverlap: settings.min_word_overlap, guided, record });
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
        if (options.semantic) {
          const edited = await applySemanticAdvantage(options.semantic, group, [...used], workKey, iteration, signal);
          for (const [name, value] of Object.entries(edited)) metrics[`navigating/${name}`] = (metrics[`navigating/${name}`] ?? 0) + value;
          continue;
        }
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
    close: closeAll,
  };

  /** One group's semantic advantage applied to the pool, all edits in the transaction that marks the group done. */
  async function applySemanticAdvantage(provider: LlmProvider, group: Trajectory[], usedIds: number[], workKey: string, iteration: number, signal?: AbortSignal) {
    const shown = usedIds.map((id) => pool.get(id)).filter((e) => e.status === "active");
    const result = await semanticAdvantage({ provider, group, shown, signal });
    const texts = result.edits.flatMap((edit) => (edit.op === "add" ? [edit.when_to_use] : edit.op === "modify" && edit.when_to_use ? [edit.when_to_use] : []));
    const vectors = texts.length > 0 ? await embedder.embed(texts, { signal }) : [];
    // What the run reports when nothing was learned: a group whose rollouts all scored the same (and whether they all
    // failed) gives the critic nothing to compare.
    const uniform = result.compared ? 0 : 1;
    const counts = {
      groups: 1,
      uniform,
      uniform_failed: uniform && group.every((t) => !t.success) ? 1 : 0,
      compared: result.compared ? 1 : 0,
      invalid: result.invalid,
      added: 0,
      modified: 0,
      deleted: 0,
    };
    pool.transaction(() => {
      if (!pool.claim(workKey)) return;
      let next = 0;
      const provenance = { sourceTrajectories: group.map((t) => t.id), sourceTasks: [...new Set(group.map((t) => t.taskId))], extractor: `semantic:${provider.id}` };
      for (const edit of result.edits) {
        if (edit.op === "add") {
          pool.add([{ experience: { whenToUse: edit.when_to_use, content: edit.content, origin: "semantic", ...provenance }, vector: vectors[next++] }], { runId, iteration });
          counts.added += 1;
        } else if (edit.op === "modify") {
          const vector = edit.when_to_use ? vectors[next++] : undefined;
          pool.update(edit.id, { content: edit.content, whenToUse: edit.when_to_use, vector });
          counts.modified += 1;
        } else if (pool.get(edit.id).status === "active") {
          pool.setStatus(edit.id, "deleted", `deleted by the semantic advantage of iteration ${iteration}: ${edit.reason}`);
          counts.deleted += 1;
        }
      }
    });
    return counts;
  }
}

/** The configured extractor: the rule, or an LLM named by navigating.extractor_model (prepareRun checked it is set). */
async function openExtractor(config: EvolveConfig, closers: (() => Promise<void>)[]): Promise<ExperienceExtractor> {
  const settings = config.navigating;
  if (settings.extractor === "rule" || !settings.extractor_model) {
    return { id: RULE_EXTRACTOR_ID, extract: async (group) => ({ experiences: extractByRule(group, 4, { successes: settings.rule_successes }), invalid: 0 }) };
  }
  const loaded = await createPolicyModel(settings.extractor_model, { baseUrl: settings.extractor_base_url, mode: "chat" });
  closers.push(() => loaded.close());
  if (loaded.model.kind !== "chat") throw new EvolverError("CONFIG_INVALID", `${settings.extractor_model} cannot serve as a chat extractor`);
  return createLlmExtractor({ provider: loaded.model.provider });
}
