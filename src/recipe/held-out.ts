// One held-out evaluation of a run, recorded: the rollouts in the store, the figures as the iteration's metrics, a
// log line. Used by the evolve loop (the trained policy's sampler) and by training-free runs (a prompted model).
import { everyRolloutErrored, type EvalReport, type ExperienceHook, type PolicyModel } from "../agent/index.js";
import { EvolverError } from "../core/errors.js";
import type { Environment } from "../env/index.js";
import type { RunStore } from "../store/index.js";
import type { EvolveConfig } from "./config.js";
import { evaluationStage } from "./rollout-stage.js";

export interface EvaluationPoint {
  iteration: number;
  success: number;
  score: number;
}

export async function recordedEvaluation(options: {
  store: RunStore;
  runId: string;
  iteration: number;
  env: Environment;
  config: EvolveConfig;
  model: PolicyModel;
  contextTokens?: number;
  experience?: ExperienceHook;
  /** The run's evaluations so far; this one is appended. */
  evaluations: EvaluationPoint[];
  signal?: AbortSignal;
  log: (line: string) => void;
}): Promise<void> {
  const { store, runId, iteration, config, log } = options;
  const report = await evaluationStage({
    env: options.env, config, model: options.model, contextTokens: options.contextTokens, record: { store, runId, iteration }, experience: options.experience, signal: options.signal, log,
  });
  // Counted as the progress lines count ("iteration 5/100" is the iteration stored as 4): the store's iteration -1 is
  // the evaluation before any update
  const when = iteration < 0 ? "before training" : `after ${iteration + 1} iteration${iteration === 0 ? "" : "s"}`;
  throwIfEveryRolloutErrored(report, `the held-out evaluation ${when}`);
  const { overall } = report;
  store.saveMetrics(runId, iteration, {
    "eval/success": overall.avgAtK,
    "eval/score": overall.meanScore,
    [`eval/best@${config.schedule.eval_k}`]: overall.bestAtK,
    "eval/rollouts": overall.rollouts,
    "eval/errored": overall.errored,
  });
  options.evaluations.push({ iteration, success: overall.avgAtK, score: overall.meanScore });
  const errored = overall.errored > 0 ? `, ${overall.errored} errored (first: ${report.firstError})` : "";
  log(`eval ${when}: success ${overall.avgAtK.toFixed(3)} score ${overall.meanScore.toFixed(3)} (${overall.tasks} held-out tasks × ${config.schedule.eval_k}${errored})`);
}

/** Every rollout errored: the numbers would say nothing, so the run stops and says why. */
export function throwIfEveryRolloutErrored(report: EvalReport, what: string): void {
  if (!everyRolloutErrored(report)) return;
  throw new EvolverError("ROLLOUTS_ALL_ERRORED", `every rollout of ${what} errored (${report.overall.rollouts}); the first: ${report.firstError}`);
}

/** The held-out results stored so far (a resumed run goes on from them). */
export function evaluationsSoFar(store: RunStore, runId: string): EvaluationPoint[] {
  const byIteration = new Map<number, EvaluationPoint>();
  for (const m of store.listMetrics(runId)) {
    if (m.name !== "eval/success" && m.name !== "eval/score") continue;
    const entry = byIteration.get(m.iteration) ?? { iteration: m.iteration, success: 0, score: 0 };
    if (m.name === "eval/success") entry.success = m.value;
    else entry.score = m.value;
    byIteration.set(m.iteration, entry);
  }
  return [...byIteration.values()].sort((a, b) => a.iteration - b.iteration);
}
