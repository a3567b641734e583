// Self-questioning in the loop: before the first iteration (and every `refresh_every` iterations) a synthesis round
// explores the environment and adds verified tasks to the run's pool (the run store's task pool, named by the run
// id); each iteration then draws its tasks from seed and synthetic tasks by `synthetic_ratio`, tasks whose last
// group had zero reward variance down-weighted. A round is stored whole, so a resumed run never redoes one.
import { createPolicyModel, type PolicyModel, type RolloutTask } from "../agent/index.js";
import { EvolverError } from "../core/errors.js";
import { deriveSeed, sampleSeeded } from "../core/random.js";
import type { EnvProfile, Environment, TaskSpec } from "../env/index.js";
import { createEmbedder, type Embedder } from "../llm/index.js";
import { heldOutSpecs, hindsightSynthesizer, judgedEnvironment, llmSynthesizer, loadProfile, mixTasks, synthesizeTasks, type SynthesisReport, type Synthesizer } from "../evolve/questioning/index.js";
import { TaskPool, type RunStore } from "../store/index.js";
import { createToolFormat } from "../agent/index.js";
import type { EvolveConfig } from "./config.js";

export interface Questioning {
  /** A synthesis round for this iteration, when one is due and not stored yet. */
  refresh(options: { iteration: number; policyModel: PolicyModel; signal?: AbortSignal; log: (line: string) => void }): Promise<void>;
  /** The iteration's tasks: seed and synthetic, mixed. */
  pickTasks(iteration: number, seedTasks: string[]): RolloutTask[];
  close(): Promise<void>;
}

function isDue(config: EvolveConfig, iteration: number): boolean {
  const every = config.questioning.refresh_every;
  return iteration === 0 || (every > 0 && iteration % every === 0);
}

export async function openQuestioning(options: { config: EvolveConfig; env: Environment; store: RunStore; runId: string }): Promise<Questioning> {
  const { config, env, store, runId } = options;
  const q = config.questioning;
  const pool = new TaskPool(store.db);
  const closers: (() => Promise<void>)[] = [];
  let profile: EnvProfile | undefined;
  let synthesizer: Synthesizer | undefined;
  let explorer: PolicyModel | undefined;
  let embedder: Embedder | undefined;
  let heldOut: TaskSpec[] | undefined;
  // Models and the embedder are opened on the first round that needs them: a resumed run past its rounds opens none.
  const open = async () => {
    profile ??= q.profile ? loadProfile(q.profile) : await env.profile();
    heldOut ??= await heldOutSpecs(env);
    if (!synthesizer) {
      if (q.synthesizer === "hindsight") synthesizer = hindsightSynthesizer();
      else {
        const loaded = await createPolicyModel(q.synthesizer_model!, { baseUrl: q.synthesizer_base_url, mode: "chat" });
        closers.push(() => loaded.close());
        if (loaded.model.kind !== "chat") throw new EvolverError("CONFIG_INVALID", `${q.synthesizer_model} cannot serve as a chat synthesizer`);
        synthesizer = llmSynthesizer({ provider: loaded.model.provider });
      }
    }
    if (!explorer && q.explorer !== "policy") {
      const loaded = await createPolicyModel(q.explorer, { baseUrl: q.explorer_base_url, mode: "chat" });
      closers.push(() => loaded.close());
      explorer = loaded.model;
    }
    if (!embedder && q.embedder !== "none") {
      embedder = await createEmbedder(q.embedder);
      closers.push(async () => embedder?.close?.());
    }
  };

  return {
    async refresh({ iteration, policyModel, signal, log }) {
      if (!q.enabled || !isDue(config, iteration)) return;
      const round = `it-${iteration}`;
      if (pool.hasRound(runId, round)) return;
      await open();
      const started = performance.now();
      const report = await synthesizeTasks({
        env,
        profile: profile!,
        explorer: explorer ?? policyModel,
        synthesizer: synthesizer!,
        perEntity: q.n,
        entities: q.entities,
        maxSteps: q.max_steps,
        temperature: q.temperature,
        maxTokensPerCall: config.rollout.max_tokens_per_step,
        toolFormat: createToolFormat(config.rollout.tool_format),
        concurrency: config.rollout.concurrency,
        seed: deriveSeed(config.run.seed, "questioning", iteration),
        // Not prefixed with the run id: exploration and synthetic task ids feed the rollouts' group keys, which seed
        // their sampling and order the update, so a prefix that differs per run made every run with questioning
        // sample differently from the same seed. The store keys them by (pool = run, id) already.
        round,
        existing: pool.list(runId, { status: "accepted" }).map((t) => t.spec),
        heldOut,
        embedder,
        lexicalThreshold: q.lexical_threshold,
        embeddingThreshold: q.embedding_threshold,
        signal,
      });
      pool.saveRound(runId, round, report);
      store.addTasks(runId, report.candidates.filter((c) => c.status === "accepted").map((c) => ({ taskId: c.id, split: config.env.train_split, source: "synthetic", payload: { explorationId: c.explorationId } })));
      log(`${roundLine(report)} (${((performance.now() - started) / 1000).toFixed(1)} s; pool ${pool.list(runId, { status: "accepted" }).length})`);
    },

    pickTasks(iteration, seedTasks) {
      const seed = deriveSeed(config.run.seed, "tasks", iteration);
      const count = config.rollout.tasks_per_iteration;
      if (!q.enabled) return sampleSeeded(seedTasks, count, seed).map((taskId) => ({ taskId }));
      const zeroVariance = store.zeroVarianceTasks(runId, iteration);
      const weight = (taskId: string) => (zeroVariance.get(taskId) ? q.zero_variance_weight : 1);
      const synthetic = pool.list(runId, { status: "accepted" });
      const mixed = mixTasks({ seed: seedTasks, synthetic, count, syntheticRatio: q.synthetic_ratio, seedWeight: weight, syntheticWeight: (t) => weight(t.id), randomSeed: seed });
      return [...mixed.seed.map((taskId) => ({ taskId })), ...mixed.synthetic.map((t) => ({ taskId: t.id, params: { task: t.spec } }))];
    },

    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    },
  };
}

/**
 * The environment the run uses: `env` itself, or with `questioning.judge_model`, `env` whose synthetic tasks run in
 * its training tasks' environments and are graded by that model (judgedEnvironment), for rounds and rollouts alike.
 */
export async function openJudgedEnvironment(config: EvolveConfig, env: Environment): Promise<{ env: Environment; close(): Promise<void> }> {
  const q = config.questioning;
  if (!q.enabled || q.judge_model === undefined) return { env, close: async () => undefined };
  const loaded = await createPolicyModel(q.judge_model, { baseUrl: q.judge_base_url, mode: "chat" });
  if (loaded.model.kind !== "chat") {
    await loaded.close();
    throw new EvolverError("CONFIG_INVALID", `questioning.judge_model: ${q.judge_model} cannot serve as a chat judge`);
  }
  return { env: judgedEnvironment(env, loaded.model.provider, { threshold: q.judge_threshold }), close: () => loaded.close() };
}

/** One line per round: counts per stage. */
export function roundLine(report: SynthesisReport): string {
  const { counts } = report;
  const reasons = (record: Partial<Record<string, number>>) => Object.entries(record).map(([reason, n]) => `${reason} ${n}`).join(", ");
  const dropped = reasons(counts.dropped);
  const rejected = reasons(counts.rejected);
  return [
    `questioning: explored ${counts.explored}${counts.exploreErrors ? ` (${counts.exploreErrors} errored)` : ""}`,
    `novelty ${report.novelty}`,
    `coverage ${report.coverage.covered.length}/${report.coverage.operations}`,
    `proposed ${counts.proposed}${dropped ? ` (dropped: ${dropped})` : ""}`,
    `verified ${counts.verified}`,
    `rejected ${Object.values(counts.rejected).reduce((a, b) => a + (b ?? 0), 0)}${rejected ? ` (${rejected})` : ""}`,
    `deduplicated ${counts.deduplicated}`,
    `accepted ${counts.accepted}`,
  ].join(", ");
}
