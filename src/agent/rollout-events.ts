// What the rollout manager reports while a batch runs. The progress bar, logs and the dashboard listen to these.
import type { Trajectory } from "./trajectory.js";

export interface RolloutStats {
  total: number;
  /** Rollouts that ended, with a trajectory or a failure. */
  done: number;
  successes: number;
  /** Rollouts that produced no trajectory (the task could not be created, or the rollout threw). */
  failed: number;
  /** Trajectories whose episode ended in a model or environment error or a timeout. */
  errored: number;
  promptTokens: number;
  completionTokens: number;
  inFlight: number;
  elapsedMs: number;
}

export interface RolloutFailure {
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
  | { type: "rollout-failed"; failure: RolloutFailure; stats: RolloutStats }
  | { type: "batch-end"; stats: RolloutStats };
