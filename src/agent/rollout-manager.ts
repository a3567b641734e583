// The one rollout engine, for training and evaluation alike: n samples of each task, at most `concurrency` rollouts
// in flight. Samples of one task in one batch share a group key (GRPO normalizes rewards within a group), and each
// sample's seed is derived from the batch seed, its group key and its index, so the same seed gives the same
// rollouts whoever runs the batch. Hooks let a caller reuse rollouts recorded earlier (a resumed run) and keep each
// new one as it ends (the run store, a JSONL file). A rollout that throws is counted and recorded; the batch goes on.
import { createHash } from "node:crypto";
import { describeError } from "../core/errors.js";
import { deriveSeed } from "../core/random.js";
import type { RolloutCrash, RolloutEvent, RolloutStats } from "./rollout-events.js";
import { runRollout, type RolloutOptions } from "./rollout.js";
import { rolloutError, type Trajectory } from "./trajectory.js";

/** A task to roll out. Synthetic tasks made from one seed task share its id and differ in `params`. */
export interface RolloutTask {
  taskId: string;
  params?: Record<string, unknown>;
}

export interface RolloutBatchOptions
  extends Omit<RolloutOptions, "taskId" | "taskParams" | "groupKey" | "sampleIndex" | "id" | "onModelCall" | "seed"> {
  tasks: RolloutTask[];
  samplesPerTask: number;
  /** Names this batch (e.g. "train/3", "eval/test"); part of every group key, so groups of two batches never merge. */
  batchId: string;
  /** Seeds every sample: its seed is derived from this, its group key and its index. Absent: unseeded sampling. */
  seed?: number;
  /** Rollouts in flight at once. Default 8. */
  concurrency?: number;
  onEvent?: (event: RolloutEvent) => void;
  /**
   * Each new trajectory as soon as it ends, before it counts as done (the run store writes it here, a JSONL file
   * appends it). A hook that throws stops the batch: a trajectory that cannot be kept is a broken run, not an error
   * of one rollout.
   */
  onTrajectory?: (trajectory: Trajectory) => void | Promise<void>;
  /** A trajectory recorded earlier for this sample (a resumed run), used as it is instead of sampling it again. */
  reuse?: (groupKey: string, sampleIndex: number) => Trajectory | undefined;
  /** The id of each sample's trajectory; default a random UUID. */
  rolloutId?: (groupKey: string, sampleIndex: number) => string;
}

export interface RolloutGroup {
  groupKey: string;
  task: RolloutTask;
  /** In sample order; crashed samples are missing here and listed in `crashes`. */
  trajectories: Trajectory[];
  crashes: RolloutCrash[];
}

export interface RolloutBatchResult {
  /** In task order. */
  groups: RolloutGroup[];
  /** In task order, then sample order. */
  trajectories: Trajectory[];
  crashes: RolloutCrash[];
  stats: RolloutStats;
}

/**
 * The group key: a hash of everything that makes a task what it is (environment, task id, parameters, with
 * object keys sorted) and of the batch. Two synthetic tasks from one seed task differ in their parameters, so
 * their groups never collide.
 */
export function groupKeyFor(envType: string, task: RolloutTask, batchId: string): string {
  const identity = stableJson({ envType, taskId: task.taskId, params: task.params ?? {}, batchId });
  return createHash("sha256").update(identity).digest("hex").slice(0, 32);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export async function runRollouts(options: RolloutBatchOptions): Promise<RolloutBatchResult> {
  const { tasks, samplesPerTask, batchId, onEvent, onTrajectory, reuse, rolloutId, seed, ...rolloutOptions } = options;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const started = performance.now();
  const stats: RolloutStats = {
    total: tasks.length * samplesPerTask,
    done: 0,
    successes: 0,
    failed: 0,
    errored: 0,
    promptTokens: 0,
    completionTokens: 0,
    inFlight: 0,
    elapsedMs: 0,
  };
  const snapshot = (): RolloutStats => ({ ...stats, elapsedMs: performance.now() - started });
  const emit = (event: RolloutEvent) => onEvent?.(event);
  const countError = (error: string) => {
    stats.errored += 1;
    stats.firstError ??= error;
  };
  const countTrajectory = (trajectory: Trajectory) => {
    stats.done += 1;
    const error = rolloutError(trajectory);
    if (error !== undefined) countError(error);
    else if (trajectory.success) stats.successes += 1;
    else stats.failed += 1;
  };
  const seen = new Map<string, number>();
  const groups: RolloutGroup[] = tasks.map((task) => {
    // The same task listed twice in one batch still makes two groups, with two keys.
    const key = groupKeyFor(options.env.name, task, batchId);
    const repeat = seen.get(key) ?? 0;
    seen.set(key, repeat + 1);
    return { groupKey: repeat === 0 ? key : groupKeyFor(options.env.name, task, `${batchId}#${repeat}`), task, trajectories: [], crashes: [] };
  });
  const jobs = groups.flatMap((group) => Array.from({ length: samplesPerTask }, (_, sampleIndex) => ({ group, sampleIndex })));
  const trajectories: (Trajectory | undefined)[] = jobs.map(({ group, sampleIndex }) => reuse?.(group.groupKey, sampleIndex));
  for (const trajectory of trajectories) if (trajectory) countTrajectory(trajectory);
  const pending = jobs.map((_, jobIndex) => jobIndex).filter((jobIndex) => trajectories[jobIndex] === undefined);
  const crashes: RolloutCrash[] = [];
  emit({ type: "batch-start", stats: snapshot() });

  let next = 0;
  const worker = async () => {
    // After an abort, rollouts in flight end (their next model call fails) and no new one starts.
    while (next < pending.length && !options.signal?.aborted) {
      const jobIndex = pending[next++];
      const { group, sampleIndex } = jobs[jobIndex];
      stats.inFlight += 1;
      emit({ type: "rollout-start", taskId: group.task.taskId, groupKey: group.groupKey, sampleIndex, stats: snapshot() });
      let trajectory: Trajectory;
      try {
        trajectory = await runRollout({
          ...rolloutOptions,
          taskId: group.task.taskId,
          taskParams: group.task.params,
          groupKey: group.groupKey,
          sampleIndex,
          id: rolloutId?.(group.groupKey, sampleIndex),
          seed: seed === undefined ? undefined : deriveSeed(seed, group.groupKey, sampleIndex),
          onModelCall: (call) => {
            stats.promptTokens += call.promptTokens;
            stats.completionTokens += call.completionTokens;
            emit({ type: "model-call", ...call, stats: snapshot() });
          },
        });
      } catch (error) {
        const crash: RolloutCrash = { taskId: group.task.taskId, taskParams: group.task.params, groupKey: group.groupKey, sampleIndex, error: describeError(error) };
        crashes.push(crash);
        group.crashes.push(crash);
        stats.inFlight -= 1;
        stats.done += 1;
        countError(`rollout of ${crash.taskId} crashed: ${crash.error}`);
        emit({ type: "rollout-crashed", crash, stats: snapshot() });
        continue;
      }
      // Outside the try: a trajectory that cannot be kept is a broken run, not an error of this rollout.
      if (onTrajectory) await onTrajectory(trajectory);
      trajectories[jobIndex] = trajectory;
      stats.inFlight -= 1;
      countTrajectory(trajectory);
      emit({ type: "rollout-end", trajectory, stats: snapshot() });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));

  trajectories.forEach((trajectory, jobIndex) => trajectory && jobs[jobIndex].group.trajectories.push(trajectory));
  const finished = trajectories.filter((t): t is Trajectory => t !== undefined);
  for (const group of groups) group.crashes.sort((a, b) => a.sampleIndex - b.sampleIndex);
  const final = snapshot();
  emit({ type: "batch-end", stats: final });
  return { groups, trajectories: finished, crashes, stats: final };
}
