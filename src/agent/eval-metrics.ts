// The evaluation figures, as pure functions over per-task outcomes.
// - avg@k: the mean over tasks of the fraction of a task's k samples that succeed (expected single-try success).
// - best@k (pass@k): the fraction of tasks where at least one of k samples succeeds. With n >= k samples we use
//   the unbiased estimator 1 - C(n-c, k) / C(n, k) (Chen et al. 2021, "Evaluating Large Language Models Trained on
//   Code", eq. 1); with n = k it is simply "any success".
// - per-turn accuracy: passed turns / graded turns, pooled over every rollout, from `details.turns[].passed` of
//   the environment's evaluation (turns marked `checked: false` are not graded, as BFCL does for empty turns).
// Errors are counted apart from failures: a failed sample is a result (the policy tried and did not succeed), an
// errored one is not (the episode ended in a model or environment error, or never started). An errored sample still
// counts as a sample that did not succeed in avg@k and best@k, so errors never raise a score; `errored` says how many
// there were, so they never pass for a policy scoring 0 either.

export interface SampleOutcome {
  success: boolean;
  score: number;
  /** Graded turns, when the environment reports them. */
  turns?: boolean[];
  /** The rollout is an error, not a result (it threw, or `rolloutError` names why). */
  errored?: boolean;
}

export interface TaskOutcomes {
  taskId: string;
  category: string;
  samples: SampleOutcome[];
}

export interface EvalScores {
  tasks: number;
  rollouts: number;
  avgAtK: number;
  bestAtK: number;
  /** Mean environment score over rollouts. */
  meanScore: number;
  /** Absent when no rollout reported graded turns. */
  perTurnAccuracy?: number;
  /** Results that did not succeed. */
  failed: number;
  /** Rollouts that are errors, not results. */
  errored: number;
}

/** Unbiased pass@k from n samples of which c succeeded: 1 - C(n-c, k) / C(n, k). */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new RangeError(`pass@k needs k <= n samples, got k=${k}, n=${n}`);
  if (n - c < k) return 1;
  // C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k / i), computed as a product to stay exact enough and finite.
  let ratio = 1;
  for (let i = n - c + 1; i <= n; i++) ratio *= 1 - k / i;
  return 1 - ratio;
}

export function scoreTasks(tasks: TaskOutcomes[], k: number): EvalScores {
  let avg = 0;
  let best = 0;
  let scoreSum = 0;
  let rollouts = 0;
  let failed = 0;
  let errored = 0;
  let turnsPassed = 0;
  let turnsGraded = 0;
  for (const task of tasks) {
    const n = task.samples.length;
    const c = task.samples.filter((s) => s.success).length;
    avg += n === 0 ? 0 : c / n;
    best += n === 0 ? 0 : passAtK(n, c, Math.min(k, n));
    for (const sample of task.samples) {
      rollouts += 1;
      scoreSum += sample.score;
      if (sample.errored) errored += 1;
      else if (!sample.success) failed += 1;
      for (const passed of sample.turns ?? []) {
        turnsGraded += 1;
        if (passed) turnsPassed += 1;
      }
    }
  }
  const count = tasks.length;
  const scores: EvalScores = {
    tasks: count,
    rollouts,
    avgAtK: count === 0 ? 0 : avg / count,
    bestAtK: count === 0 ? 0 : best / count,
    meanScore: rollouts === 0 ? 0 : scoreSum / rollouts,
    failed,
    errored,
  };
  if (turnsGraded > 0) scores.perTurnAccuracy = turnsPassed / turnsGraded;
  return scores;
}

/** Graded turns from an evaluation's details: `details.turns[].passed`, skipping turns with `checked: false`. */
export function gradedTurns(details: Record<string, unknown>): boolean[] | undefined {
  const turns = details.turns;
  if (!Array.isArray(turns)) return undefined;
  const graded: boolean[] = [];
  for (const turn of turns) {
    if (typeof turn !== "object" || turn === null) continue;
    const { passed, checked } = turn as { passed?: unknown; checked?: unknown };
    if (checked === false || typeof passed !== "boolean") continue;
    graded.push(passed);
  }
  return graded;
}
