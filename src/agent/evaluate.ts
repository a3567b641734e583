// `evolver eval`: k rollouts of each sampled task of a split, scored as avg@k, best@k and per-turn accuracy,
// per category and overall. The same seed samples the same tasks.
import { EvolverError } from "../core/errors.js";
import type { Split } from "../env/index.js";
import { gradedTurns, scoreTasks, type EvalScores, type TaskOutcomes } from "./eval-metrics.js";
import { policyModelId } from "./model-drivers.js";
import type { RolloutStats } from "./rollout-events.js";
import { runRollouts, type RolloutBatchOptions } from "./rollout-manager.js";
import { mulberry32 } from "../core/random.js";

export interface EvaluateOptions extends Omit<RolloutBatchOptions, "tasks" | "samplesPerTask" | "batchId"> {
  split: Split;
  /** Samples per task. */
  k: number;
  /** Evaluate this many tasks, sampled with `seed`; all of the split when absent. */
  tasks?: number;
  /** Picks the tasks, and seeds sampling where the backend takes seeds. Default 0. */
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
  createdAt: string;
}

/** A seeded choice of `count` task ids (all of them, in order, when count is absent or not smaller). */
export function sampleTasks(taskIds: string[], count: number | undefined, seed: number): string[] {
  if (count === undefined || count >= taskIds.length) return [...taskIds];
  const shuffled = [...taskIds];
  const random = mulberry32(seed);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return shuffled.slice(0, count);
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
  const batch = await runRollouts({ ...batchOptions, seed, tasks: taskIds.map((taskId) => ({ taskId })), samplesPerTask: k, batchId: `eval/${split}/seed-${seed}` });

  const outcomes: TaskOutcomes[] = batch.groups.map((group) => {
    const info = group.trajectories.find((t) => typeof t.info?.category === "string")?.info;
    const samples = group.trajectories.map((t) => ({
      success: t.success,
      score: t.reward,
      turns: gradedTurns(t.evaluation),
      failed: t.termination === "error" || t.termination === "timeout",
    }));
    for (const _ of group.failures) samples.push({ success: false, score: 0, turns: undefined, failed: true });
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
    createdAt: new Date().toISOString(),
  };
}

/** The report as a terminal table: one row per category, then the overall row. */
export function formatEvalTable(report: EvalReport): string {
  const percent = (x: number | undefined) => (x === undefined ? "-" : `${(100 * x).toFixed(1)}%`);
  const header = ["category", "tasks", "rollouts", `avg@${report.k}`, `best@${report.k}`, "score", "turn acc", "failures"];
  const row = (name: string, s: EvalScores) => [name, String(s.tasks), String(s.rollouts), percent(s.avgAtK), percent(s.bestAtK), s.meanScore.toFixed(3), percent(s.perTurnAccuracy), String(s.failures)];
  const rows = [header, ...Object.entries(report.categories).map(([name, s]) => row(name, s)), row("overall", report.overall)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [`${report.env} ${report.split} | ${report.model} | k=${report.k} seed=${report.seed}`, line(rows[0]), rule, ...rows.slice(1, -1).map(line), rule, line(rows.at(-1)!)].join("\n");
}
