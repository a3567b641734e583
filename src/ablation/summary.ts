// The ablation's numbers, as pure functions of the runs' held-out curves: held-out success at the end of the budget
// and iterations to a threshold, each as mean and spread over seeds, and whether the paper's ordering came out.
import type { AblationConfiguration } from "./configurations.js";

/** One held-out evaluation: `iterations` policy updates done (0 = the untrained policy). */
export interface CurvePoint {
  iterations: number;
  success: number;
  score: number;
}

export interface SeedRun {
  seed: number;
  runId: string;
  points: CurvePoint[];
  /** Per iteration, in order: the share of that iteration's training rollouts that solved their task (at the rollout
   * temperature, on the tasks this configuration trained on: seed tasks, and with questioning synthetic ones). */
  trainSuccess: number[];
  /** The run's own wall-clock, from its creation to its last update in the store (whenever it ran). */
  seconds: number;
}

export interface ConfigurationOutcome {
  configuration: AblationConfiguration;
  /** done: every seed ran; unavailable: a mechanism it needs is not in this build (nothing was run);
   * failed: a seed's run stopped with an error (the seeds that finished are kept). */
  status: "done" | "unavailable" | "failed";
  reason?: string;
  runs: SeedRun[];
}

export interface Spread {
  values: number[];
  mean: number;
  /** Sample standard deviation (n - 1); NaN below two values. */
  sd: number;
}

export interface ConfigurationSummary {
  configuration: AblationConfiguration;
  status: ConfigurationOutcome["status"];
  reason?: string;
  /** Held-out success after the last iteration of the budget, per seed. */
  finalSuccess: Spread;
  finalScore: Spread;
  /** Training success averaged over the budget's iterations, per seed: how fast the policy learnt the tasks it trained
   * on. Held-out success at the end cannot show a mechanism that only speeds that up once every configuration has
   * learnt them (docs/ablation.md: self-attributing). */
  trainSuccess: Spread;
  /** Iterations until held-out success first reached the threshold, over the seeds that reached it. */
  toThreshold: Spread & { reached: number; of: number };
}

export function spread(values: number[]): Spread {
  if (values.length === 0) return { values, mean: Number.NaN, sd: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length < 2 ? Number.NaN : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  return { values, mean, sd };
}

/** Updates done when held-out success first reached the threshold; undefined when it never did. */
export function iterationsToThreshold(points: CurvePoint[], threshold: number): number | undefined {
  return [...points].sort((a, b) => a.iterations - b.iterations).find((p) => p.success >= threshold)?.iterations;
}

/** The evaluation after the budget's last iteration; a run that stopped early has none and counts for nothing. */
function finalPoint(points: CurvePoint[], budget: number): CurvePoint | undefined {
  return points.find((p) => p.iterations === budget);
}

export function summarize(outcome: ConfigurationOutcome, budget: number, threshold: number): ConfigurationSummary {
  const finished = outcome.runs.map((r) => finalPoint(r.points, budget)).filter((p): p is CurvePoint => p !== undefined);
  const reached = outcome.runs.map((r) => iterationsToThreshold(r.points, threshold)).filter((n): n is number => n !== undefined);
  return {
    configuration: outcome.configuration,
    status: outcome.status,
    reason: outcome.reason,
    finalSuccess: spread(finished.map((p) => p.success)),
    finalScore: spread(finished.map((p) => p.score)),
    // A run stopped short of the budget counts for nothing here either: its mean would cover other iterations.
    trainSuccess: spread(outcome.runs.filter((r) => r.trainSuccess.length === budget).map((r) => r.trainSuccess.reduce((a, b) => a + b, 0) / budget)),
    toThreshold: { ...spread(reached), reached: reached.length, of: outcome.runs.length },
  };
}

export interface OrderingCheck {
  /** False when a configuration the check needs was not run to the end (then the rest is undefined). */
  complete: boolean;
  /** Every single mechanism's mean above GRPO's. */
  singlesAboveGrpo?: boolean;
  /** All three's mean above every single mechanism's. */
  allAboveSingles?: boolean;
  /** All three's mean above GRPO's by more than the larger of the two standard deviations. */
  allClearOfGrpo?: boolean;
}

/** The paper's ordering on final held-out success (or score): GRPO < each single mechanism < all three. */
export function checkOrdering(summaries: ConfigurationSummary[], metric: "finalSuccess" | "finalScore" = "finalSuccess"): OrderingCheck {
  const by = (name: string) => summaries.find((s) => s.configuration.name === name);
  const grpo = by("grpo");
  const all = by("all");
  const singles = ["questioning", "navigating", "attributing"].map(by);
  const usable = (s: ConfigurationSummary | undefined): s is ConfigurationSummary => s !== undefined && s.status === "done" && s[metric].values.length > 0;
  if (!usable(grpo) || !usable(all) || !singles.every(usable)) return { complete: false };
  const done = singles as ConfigurationSummary[];
  const margin = Math.max(grpo[metric].sd, all[metric].sd);
  return {
    complete: true,
    singlesAboveGrpo: done.every((s) => s[metric].mean > grpo[metric].mean),
    allAboveSingles: done.every((s) => all[metric].mean > s[metric].mean),
    allClearOfGrpo: Number.isFinite(margin) && all[metric].mean - grpo[metric].mean > margin,
  };
}
