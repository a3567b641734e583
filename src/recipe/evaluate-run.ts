// `evolver eval --run RUN`: a run's weights after one of its iterations, evaluated exactly as the run's own held-out
// evaluation does (evaluationStage: the same tasks, samples, seeds and settings, through the run's own trainer), so
// the numbers are the ones the run recorded, and can be had for any checkpoint, or again after the run.
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { EvolverError } from "../core/errors.js";
import type { EvalReport, RolloutEvent, Trajectory } from "../agent/index.js";
import { RunStore } from "../store/index.js";
import { parseConfig } from "./config.js";
import { prepareRun } from "./prepare.js";
import { openPolicy } from "./policy.js";
import { evaluationStage } from "./rollout-stage.js";

export interface EvaluateRunOptions {
  runId: string;
  storePath?: string;
  /** The weights after this iteration; -1 is the policy before any update (after the SFT warm start, where there
   * was one). Default: the last completed iteration. */
  iteration?: number;
  log?: (line: string) => void;
  /** Each trajectory as it ends (`evolver eval --trajectories`). */
  onTrajectory?: (trajectory: Trajectory) => void | Promise<void>;
  onEvent?: (event: RolloutEvent) => void;
  signal?: AbortSignal;
}

export async function evaluateRun(options: EvaluateRunOptions): Promise<{ report: EvalReport; iteration: number }> {
  const log = options.log ?? ((line: string) => console.error(line));
  const store = new RunStore(options.storePath ?? ".evolver/runs.db", { create: false });
  let stored, iteration: number, checkpoint;
  try {
    const run = store.getRun(options.runId);
    stored = parseConfig(run.config, `the stored config of ${run.id}`);
    iteration = options.iteration ?? store.lastCompletedIteration(run.id);
    const training = store.listCheckpoints(run.id).filter((c) => c.kind === "training");
    // Before any update the weights are the warm start's (iteration -2) where there was one, else the base weights.
    checkpoint = iteration < 0 ? training.filter((c) => c.iteration < 0).at(-1) : training.find((c) => c.iteration === iteration);
    if (iteration >= 0 && !checkpoint) {
      const have = training.filter((c) => c.iteration >= 0).map((c) => c.iteration);
      throw new EvolverError("RUN_NO_CHECKPOINT", `run ${run.id} has no checkpoint of iteration ${iteration}; it has ${have.length ? have.join(", ") : "none"} (and -1, the weights before any update)`);
    }
  } finally {
    store.close();
  }
  const { config, env } = await prepareRun(stored);
  // The run's checkpoints are read from its own folder (run from where the run was started, as --resume is).
  const checkpointDir = join(resolve(config.run.output_dir, options.runId), "checkpoints");
  const policy = await openPolicy(config, checkpointDir, log).catch(async (error) => {
    await env.close?.();
    throw error;
  });
  try {
    if (checkpoint) await policy.training.loadWeights(checkpoint.path);
    const sampler = await policy.training.saveWeightsForSampler(`eval-${iteration + 1}`);
    const report = await evaluationStage({
      env, config, model: { kind: "tokens", template: policy.template, sampler }, contextTokens: policy.contextTokens, signal: options.signal, log,
      onTrajectory: options.onTrajectory, onEvent: options.onEvent,
    });
    return { report, iteration };
  } finally {
    await policy.close().catch(() => undefined);
    await env.close?.().catch(() => undefined);
    // The sampler weights of this evaluation went under this trainer's own model id: nothing of the run's.
    if (config.trainer.kind === "local") rmSync(join(checkpointDir, policy.training.modelId), { recursive: true, force: true });
  }
}
