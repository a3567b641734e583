// What the rollout engine reports while a batch runs. The progress bar, logs and the dashboard listen to these.
import type { Trajectory } from "./trajectory.js";

export interface RolloutStats {
  total: number;
  /** Rollouts that ended: results, errors and crashes. */
  done: number;
  /** Results that succeeded. */
  successes: number;
  /** Results that did not succeed: the policy tried and failed (a score, not an error). */
  failed: number;
  /**
   * Rollouts that are errors, not results (`rolloutError`): the episode ended in a model or environment error or a
   * timeout, the first prompt did not fit in the context, or the rollout crashed (threw) and left no trajectory.
   */
  errored: number;
  /** The first error, as "what: why" (e.g. "model call 0 failed: LLM_CONTEXT_OVERFLOW: ..."). */
  firstError?: string;
  promptTokens: number;
  completionTokens: number;
  inFlight: number;
  elapsedMs: number;
}

/** A rollout that threw, so it left no trajectory (the task could not be created). Counted in `errored`. */
export interface RolloutCrash {
  taskId: string;
  taskParams?: Record<string, unknown>;
  groupKey: string;
  sampleIndex: number;
  error: string;
}

export type RolloutEvent =
  | { type: "batch-start"; stats: RolloutStats }
  | { type: "rollout-start"; taskId: string; groupKey: string; sampleIndex: number; stats: RolloutStats }
  | { type: "model-call"; promptTokens: number; completionTokens: number; ms: number; stats: RolloutStats }
  | { type: "rollout-end"; trajectory: Trajectory; stats: RolloutStats }
  | { type: "rollout-crashed"; crash: RolloutCrash; stats: RolloutStats }
  | { type: "batch-end"; stats: RolloutStats };
