// Rollouts of the loop, through the one rollout engine that `evolver eval` uses too (agent/rollout-manager.ts):
// an iteration's training rollouts (n samples of each task with the current weights), and the held-out evaluation
// (agent/evaluate.ts). Each rollout is written to the store as it ends (those that end in one turn of the event loop,
// in one transaction). Samples already in the store (a resumed run) are reused, not redone; every sample's seed is
// derived from the run's seed, so the missing ones are the rollouts the run would have made, and an evaluation samples
// exactly what `evolver eval` with the same seed does.
import { createContextStrategy, createToolFormat, evaluateAgent, runRollouts, type EvalReport, type ExperienceHook, type PolicyModel, type RolloutBatchOptions, type RolloutStats, type RolloutTask, type Trajectory } from "../agent/index.js";
import type { Environment } from "../env/index.js";
import type { RunStore, TrajectoryPurpose } from "../store/index.js";
import type { EvolveConfig } from "./config.js";

/** Where a stage's rollouts are recorded: the run store, keyed by run, iteration and purpose. */
export interface RolloutRecord {
  store: RunStore;
  runId: string;
  iteration: number;
}

export interface RolloutStageOptions extends RolloutRecord {
  env: Environment;
  config: EvolveConfig;
  /** The policy: token sampling with its chat template (trained), or a chat model (trainer.kind none). */
  model: PolicyModel;
  /** The policy's context in tokens, when known. */
  contextTokens?: number;
  /** Seed tasks by id; synthetic ones carry their spec in params. */
  tasks: RolloutTask[];
  /** Self-navigating's retrieval, where the run has a pool. */
  experience?: ExperienceHook;
  signal?: AbortSignal;
  log: (line: string) => void;
}

/** The rollout settings of the config, the same for training and evaluation. */
function rolloutSettings(config: EvolveConfig, env: Environment, model: PolicyModel, contextTokens: number | undefined, signal?: AbortSignal) {
  return {
    env,
    model,
    toolFormat: createToolFormat(config.rollout.tool_format),
    context: createContextStrategy(config.rollout.context, {
      toolRetrieval: { embedderSpec: { spec: config.rollout.tool_retrieval.embedder, baseUrl: config.rollout.tool_retrieval.embedder_base_url } },
    }),
    maxSteps: config.rollout.max_steps,
    maxTokensPerCall: config.rollout.max_tokens_per_step,
    contextLimitTokens: contextTokens,
    topP: config.rollout.top_p,
    concurrency: config.rollout.concurrency,
    seed: config.run.seed,
    signal,
  };
}

/**
 * Writes trajectories that end in the same turn of the event loop together, in one transaction: a rollout's promise
 * settles once its trajectory is written (or its batch failed to be). Many rollouts end in one turn (a trainer step
 * answers all its requests at once), and a commit each cost 20-45 ms of CPU and 50-100 ms of wall time on the event
 * loop per 192 trajectories (load 2-3), one transaction 13-37 ms and 24-45 ms.
 */
export function savedTogether<T>(save: (items: T[]) => void): (item: T) => Promise<void> {
  let pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  return (item) =>
    new Promise<void>((resolve, reject) => {
      if (pending.length === 0) {
        setImmediate(() => {
          const batch = pending;
          pending = [];
          try {
            save(batch.map((p) => p.item));
          } catch (error) {
            for (const p of batch) p.reject(error);
            return;
          }
          for (const p of batch) p.resolve();
        });
      }
      pending.push({ item, resolve, reject });
    });
}

/** Reuse what the store holds, write each new rollout as it ends, and name rollouts after the run. */
function storeHooks(record: RolloutRecord, purpose: TrajectoryPurpose, log: (line: string) => void, signal: AbortSignal | undefined): Pick<RolloutBatchOptions, "reuse" | "onTrajectory" | "rolloutId" | "onEvent"> {
  const { store, runId, iteration } = record;
  const stored = new Map(store.listTrajectories(runId, iteration, purpose).map((t) => [`${t.groupKey}/${t.sampleIndex}`, t]));
  const save = savedTogether<Trajectory>((trajectories) => store.db.transaction(() => {
    for (const trajectory of trajectories) store.saveTrajectory(runId, iteration, purpose, trajectory);
  })());
  return {
    reuse: (groupKey, sampleIndex) => stored.get(`${groupKey}/${sampleIndex}`),
    // A rollout that ends once the run is stopped (or an overlapped iteration's rollouts are cancelled) was most
    // likely cut short (its model call failed): it is not kept, so a resumed run samples it again rather than
    // reusing an error the stop made.
    onTrajectory: (trajectory) => (signal?.aborted ? Promise.resolve() : save(trajectory)),
    rolloutId: (groupKey, sampleIndex) => `${runId}/${purpose}/${iteration}/${groupKey.slice(0, 12)}/${sampleIndex}`,
    onEvent: (event) => {
      // Said on resume only: the rollouts a killed run had finished are reused, never sampled again.
      if (event.type === "batch-start" && event.stats.done > 0) {
        log(`${purpose} rollouts of iteration ${iteration}: ${event.stats.done} already in the store, ${event.stats.total - event.stats.done} to run`);
      }
      if (event.type === "rollout-crashed") log(`rollout ${event.crash.taskId}#${event.crash.sampleIndex} crashed: ${event.crash.error}`);
    },
  };
}

/** An iteration's training rollouts, in a fixed order, with the batch's counts (errors apart from results). */
export async function rolloutStage(options: RolloutStageOptions): Promise<{ trajectories: Trajectory[]; stats: RolloutStats }> {
  const { config, iteration } = options;
  const batch = await runRollouts({
    ...rolloutSettings(config, options.env, options.model, options.contextTokens, options.signal),
    ...storeHooks(options, "train", options.log, options.signal),
    temperature: config.rollout.temperature,
    tasks: options.tasks,
    samplesPerTask: config.rollout.group_size,
    batchId: `train/${iteration}`,
    experience: options.experience,
  });
  // In a fixed order, not the order the rollouts happened to end in: the update (its datums, its mini-batches) is
  // then the same whether the rollouts came from one process or from a killed one and its resumption.
  const trajectories = [...batch.trajectories].sort((a, b) => (a.groupKey === b.groupKey ? a.sampleIndex - b.sampleIndex : a.groupKey < b.groupKey ? -1 : 1));
  const { errored, total, firstError } = batch.stats;
  if (errored > 0 && errored < total) options.log(`${errored} of ${total} train rollouts of iteration ${iteration} errored; they are left out of the update (the first: ${firstError})`);
  return { trajectories, stats: batch.stats };
}

/**
 * The held-out evaluation: `evolver eval`'s evaluation with the run's settings (its eval split, tasks, k, seed and
 * temperature, and its rollout settings). With `record`, rollouts are reused from and written to the store.
 */
export async function evaluationStage(options: {
  env: Environment;
  config: EvolveConfig;
  model: PolicyModel;
  contextTokens?: number;
  record?: RolloutRecord;
  /** Without `record`: each trajectory as it ends, and progress. */
  onTrajectory?: RolloutBatchOptions["onTrajectory"];
  onEvent?: RolloutBatchOptions["onEvent"];
  /** Self-navigating's retrieval (reads the pool, never writes it). */
  experience?: ExperienceHook;
  signal?: AbortSignal;
  log: (line: string) => void;
}): Promise<EvalReport> {
  const { config } = options;
  return evaluateAgent({
    ...rolloutSettings(config, options.env, options.model, options.contextTokens, options.signal),
    ...(options.record ? storeHooks(options.record, "eval", options.log, options.signal) : { onTrajectory: options.onTrajectory, onEvent: options.onEvent }),
    temperature: config.schedule.eval_temperature,
    split: config.env.eval_split,
    k: config.schedule.eval_k,
    tasks: config.schedule.eval_tasks,
    experience: options.experience,
  });
}
