// Runs a batch: n samples of each task, at most `concurrency` rollouts in flight. Samples of one task in one batch
// share a group key (GRPO normalizes rewards within a group). A rollout that throws is counted and recorded as a
// failure; the batch goes on.
import { createHash } from "node:crypto";
import { describeError } from "../core/errors.js";
import type { JsonlWriter } from "./jsonl.js";
import type { RolloutEvent, RolloutFailure, RolloutStats } from "./rollout-events.js";
import { runRollout, type RolloutOptions } from "./rollout.js";
import type { Trajectory } from "./trajectory.js";

/** A task to roll out. Synthetic tasks made from one seed task share its id and differ in `params`. */
export interface RolloutTask {
  taskId: string;
  params?: Record<string, unknown>;
}

export interface RolloutBatchOptions extends Omit<RolloutOptions, "taskId" | "taskParams" | "groupKey" | "sampleIndex" | "id" | "onModelCall"> {
  tasks: RolloutTask[];
  samplesPerTask: number;
  /** Names this batch (e.g. "epoch-3/batch-7"); part of every group key, so groups of two batches never merge. */
  batchId: string;
  /** Rollouts in flight at once. Default 8. */
  concurrency?: number;
  onEvent?: (event: RolloutEvent) => void;
  /** Each trajectory is appended here as soon as it ends. */
  output?: JsonlWriter;
}

export interface RolloutGroup {
  groupKey: string;
  task: RolloutTask;
  /** In sample order; failed samples are missing here and listed in `failures`. */
  trajectories: Trajectory[];
  failures: RolloutFailure[];
}

export interface RolloutBatchResult {
  /** In task order. */
  groups: RolloutGroup[];
  trajectories: Trajectory[];
  failures: RolloutFailure[];
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
  const { tasks, samplesPerTask, batchId, onEvent, output, ...rolloutOptions } = options;
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
  const seen = new Map<string, number>();
  const groups: RolloutGroup[] = tasks.map((task) => {
    // The same task listed twice in one batch still makes two groups, with two keys.
    const key = groupKeyFor(options.env.name, task, batchId);
    const repeat = seen.get(key) ?? 0;
    seen.set(key, repeat + 1);
    return { groupKey: repeat === 0 ? key : groupKeyFor(options.env.name, task, `${batchId}#${repeat}`), task, trajectories: [], failures: [] };
  });
  const jobs = groups.flatMap((group, taskIndex) => Array.from({ length: samplesPerTask }, (_, sampleIndex) => ({ group, taskIndex, sampleIndex })));
  const trajectories: (Trajectory | undefined)[] = new Array(jobs.length);
  const failures: RolloutFailure[] = [];
  emit({ type: "batch-start", stats: snapshot() });

  let next = 0;
  const worker = async () => {
    // After an abort, rollouts in flight end (their next model call fails) and no new one starts.
    while (next < jobs.length && !options.signal?.aborted) {
      const jobIndex = next++;
      const { group, taskIndex, sampleIndex } = jobs[jobIndex];
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
          // Distinct seeds per sample, so a seeded backend does not give every member of a group the same answer.
          seed: options.seed === undefined ? undefined : options.seed + (taskIndex * samplesPerTask + sampleIndex) * 1000,
          onModelCall: (call) => {
            stats.promptTokens += call.promptTokens;
            stats.completionTokens += call.completionTokens;
            emit({ type: "model-call", ...call, stats: snapshot() });
          },
        });
      } catch (error) {
        const failure: RolloutFailure = { taskId: group.task.taskId, taskParams: group.task.params, groupKey: group.groupKey, sampleIndex, error: describeError(error) };
        failures.push(failure);
        group.failures.push(failure);
        stats.inFlight -= 1;
        stats.done += 1;
        stats.failed += 1;
        emit({ type: "rollout-failed", failure, stats: snapshot() });
        continue;
      }
      trajectories[jobIndex] = trajectory;
      stats.inFlight -= 1;
      stats.done += 1;
      if (trajectory.success) stats.successes += 1;
      if (trajectory.termination === "error" || trajectory.termination === "timeout") stats.errored += 1;
      // Outside the try: a trajectory that cannot be written is a broken run, not a failed rollout.
      if (output) await output.write(trajectory);
      emit({ type: "rollout-end", trajectory, stats: snapshot() });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));

  trajectories.forEach((trajectory, jobIndex) => trajectory && jobs[jobIndex].group.trajectories.push(trajectory));
  const finished = trajectories.filter((t): t is Trajectory => t !== undefined);
  for (const group of groups) group.failures.sort((a, b) => a.sampleIndex - b.sampleIndex);
  const final = snapshot();
  emit({ type: "batch-end", stats: final });
  return { groups, trajectories: finished, failures, stats: final };
}
