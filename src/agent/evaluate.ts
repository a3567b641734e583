// Evaluation, for `evolver eval` and the evolve loop's held-out evaluation alike: k rollouts of each of a seeded
// choice of a split's tasks, through the one rollout engine, scored as avg@k, best@k and per-turn accuracy, per
// category and overall. The same seed picks the same tasks and seeds the same samples, so the same policy gives
// the same numbers whoever runs it. Errored rollouts are counted apart from failed ones.
import { EvolverError } from "../core/errors.js";
import { deriveSeed, sampleSeeded } from "../core/random.js";
import type { Split } from "../env/index.js";
import { gradedTurns, scoreTasks, type EvalScores, type TaskOutcomes } from "./eval-metrics.js";
import { policyModelId } from "./model-drivers.js";
import type { RolloutStats } from "./rollout-events.js";
import { runRollouts, type RolloutBatchOptions } from "./rollout-manager.js";
import { rolloutError } from "./trajectory.js";

export interface EvaluateOptions extends Omit<RolloutBatchOptions, "tasks" | "samplesPerTask" | "batchId" | "seed"> {
  split: Split;
  /** Samples per task. */
  k: number;
  /** Evaluate this many tasks, sampled with `seed`; all of the split when absent. */
  tasks?: number;
  /** Picks the tasks and seeds every sample. Default 0. */
  seed?: number;
}

export interface EvalTaskResult {
  taskId: string;
  category: string;
  successes: number;
  samples: number;
  scores: number[];
}

export interface EvalReport {
  env: string;
  model: string;
  split: Split;
  k: number;
  seed: number;
  overall: EvalScores;
  categories: Record<string, EvalScores>;
  tasks: EvalTaskResult[];
  stats: RolloutStats;
  /** The first rollout error, when there was one: what `evolver eval` says when every rollout errored. */
  firstError?: string;
  createdAt: string;
}

/** Every rollout errored: the report says nothing about the policy, and the caller should say why and stop. */
export function everyRolloutErrored(report: Pick<EvalReport, "overall">): boolean {
  return report.overall.rollouts > 0 && report.overall.errored === report.overall.rollouts;
}

/** The evaluation's seeded choice of `count` task ids (every one, in a seeded order, when count is absent). */
export function sampleTasks(taskIds: readonly string[], count: number | undefined, seed: number): string[] {
  return sampleSeeded(taskIds, Math.min(count ?? taskIds.length, taskIds.length), deriveSeed(seed, "eval"));
}

export async function evaluateAgent(options: EvaluateOptions): Promise<EvalReport> {
  const { split, k, tasks: taskCount, ...batchOptions } = options;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(k) || k < 1) throw new EvolverError("EVAL_BAD_OPTIONS", `k must be a whole number >= 1, got ${k}`);
  if (taskCount !== undefined && (!Number.isInteger(taskCount) || taskCount < 1)) {
    throw new EvolverError("EVAL_BAD_OPTIONS", `tasks must be a whole number >= 1, got ${taskCount}`);
  }
  const all = await options.env.listTasks(split);
  if (all.length === 0) throw new EvolverError("EVAL_NO_TASKS", `environment '${options.env.name}' has no ${split} tasks`);
  const taskIds = sampleTasks(all, taskCount, seed);
  // The batch is named by the split alone: the seed is in every sample's seed already, and leaving the caller out
  // (the CLI, the loop's iteration) gives both the same group keys, hence the same samples.
  const batch = await runRollouts({ ...batchOptions, seed, tasks: taskIds.map((taskId) => ({ taskId })), samplesPerTask: k, batchId: `eval/${split}` });

  const outcomes: TaskOutcomes[] = batch.groups.map((group) => {
    const info = group.trajectories.find((t) => typeof t.info?.category === "string")?.info;
    const samples = group.trajectories.map((t) => ({
      success: t.success,
      score: t.reward,
      turns: gradedTurns(t.evaluation),
      errored: rolloutError(t) !== undefined,
    }));
    for (const _ of group.crashes) samples.push({ success: false, score: 0, turns: undefined, errored: true });
    return { taskId: group.task.taskId, category: typeof info?.category === "string" ? info.category : "all", samples };
  });
  const categories: Record<string, EvalScores> = {};
  for (const category of [...new Set(outcomes.map((o) => o.category))].sort()) {
    categories[category] = scoreTasks(outcomes.filter((o) => o.category === category), k);
  }
  return {
    env: options.env.name,
    model: policyModelId(options.model),
    split,
    k,
    seed,
    overall: scoreTasks(outcomes, k),
    categories,
    tasks: outcomes.map((o) => ({
      taskId: o.taskId,
      category: o.category,
      successes: o.samples.filter((s) => s.success).length,
      samples: o.samples.length,
      scores: o.samples.map((s) => s.score),
    })),
    stats: batch.stats,
    ...(batch.stats.firstError === undefined ? {} : { firstError: batch.stats.firstError }),
    createdAt: new Date().toISOString(),
  };
}

/** The report as a terminal table: one row per category, then the overall row. */
export function formatEvalTable(report: EvalReport): string {
  const percent = (x: number | undefined) => (x === undefined ? "-" : `${(100 * x).toFixed(1)}%`);
  const header = ["category", "tasks", "rollouts", `avg@${report.k}`, `best@${report.k}`, "score", "turn acc", "failed", "errored"];
  const row = (name: string, s: EvalScores) => [
    name, String(s.tasks), String(s.rollouts), percent(s.avgAtK), percent(s.bestAtK), s.meanScore.toFixed(3), percent(s.perTurnAccuracy), String(s.failed), String(s.errored),
  ];
  const rows = [header, ...Object.entries(report.categories).map(([name, s]) => row(name, s)), row("overall", report.overall)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const lines = [`${report.env} ${report.split} | ${report.model} | k=${report.k} seed=${report.seed}`, line(rows[0]), rule, ...rows.slice(1, -1).map(line), rule, line(rows.at(-1)!)];
  if (report.firstError !== undefined) lines.push(`first error: ${report.firstError}`);
  return lines.join("\n");
}
