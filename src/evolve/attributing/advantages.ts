// GRPO and ADCA-GRPO advantages as pure functions over arrays: no I/O, no clock, no randomness.
// The Python trainer and these functions agree on the shared vectors in test/vectors/attribution.json.
//
// ADCA-GRPO (AgentEvolver, "decouple" scheme): the judge labels each step GOOD (+1) or BAD (-1); those step rewards
// and the trajectories' outcome rewards are z-scored separately within the group, combined per step as
// `alpha * stepZ + (outcomeZ at the last step only)`, and a step's advantage is the suffix sum of the combined rewards
// from that step to the end. Every sampled token of a step carries the step's advantage.
import { advantageShapeError } from "./errors.js";

export interface NormalizationOptions {
  /** Divide by the group's standard deviation (GRPO). False centres only (Dr. GRPO). */
  normalizeStd: boolean;
  /**
   * A threshold, not an additive term: a group whose standard deviation is at most `eps` carries no signal and gets
   * exactly 0. Otherwise values are divided by the exact standard deviation, so hand-derived values are exact.
   */
  eps: number;
}

/** +1 for GOOD, -1 for BAD. */
export type StepLabelValue = 1 | -1;

/**
 * Z-scores of `values` within their group, with the population standard deviation (divide by n), as AgentEvolver's
 * decouple scheme does for both outcomes and steps.
 * A group of fewer than two values gets 0: there is nothing to compare against (verl would instead pass a lone
 * sample's raw score through; we do not, a lone rollout says nothing about its relative quality).
 */
export function groupZScores(values: readonly number[], options: NormalizationOptions): number[] {
  const n = values.length;
  if (n < 2) return values.map(() => 0);
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  const centred = values.map((v) => v - mean);
  if (!options.normalizeStd) return centred;
  const std = Math.sqrt(centred.reduce((sum, d) => sum + d * d, 0) / n);
  if (std <= options.eps) return values.map(() => 0);
  return centred.map((d) => d / std);
}

/** Plain GRPO: one advantage per trajectory, the outcome z-scored within its group. */
export function grpoAdvantages(outcomes: readonly number[], options: NormalizationOptions): number[] {
  return groupZScores(outcomes, options);
}

/** suffix[j] = values[j] + values[j+1] + ... + values[last]. */
export function suffixSums(values: readonly number[]): number[] {
  const out = new Array<number>(values.length);
  let running = 0;
  for (let j = values.length - 1; j >= 0; j--) {
    running += values[j];
    out[j] = running;
  }
  return out;
}

export interface AdcaOptions extends NormalizationOptions {
  /** Weight of the step (attribution) reward against the outcome reward. */
  alpha: number;
}

export interface AdcaGroupInput {
  outcomes: readonly number[];
  /** Per trajectory: one label per step, or null where the judgment failed (that trajectory falls back to GRPO). */
  stepLabels: readonly (readonly StepLabelValue[] | null)[];
  /** Per trajectory: its number of steps. Needed for failed judgments, checked against the labels otherwise. */
  stepCounts: readonly number[];
}

export interface AdcaGroupResult {
  /** Per trajectory, per step: the advantage every sampled token of that step gets. */
  stepAdvantages: number[][];
  /** Per trajectory, per step: the combined reward before the suffix sum (useful for audits). */
  stepRewards: number[][];
  /** Per trajectory: the outcome z-score (= its GRPO advantage). */
  outcomeAdvantages: number[];
  /** Per trajectory: true where the judgment failed and plain GRPO was used. */
  fellBack: boolean[];
}

/**
 * ADCA-GRPO for one group (rollouts of the same task).
 *
 * Choices, each following AgentEvolver's `_build_decouple` unless the issue says otherwise:
 * - Outcomes and step rewards are normalized separately ("decouple"), both with population std.
 * - Step rewards are pooled over all steps of all judged trajectories of the group (the choice; AgentEvolver's
 *   default instead weights each trajectory equally). Failed trajectories have no labels and stay out of the pool.
 * - The outcome z-score is added at the last step only (`orm_distribution: last_step`), so with alpha = 0 every step
 *   of a trajectory gets exactly its GRPO advantage.
 * - `normalizeStd: false` centres both the outcomes and the step rewards without dividing (Dr. GRPO style).
 * - A trajectory whose judgment failed gets its GRPO advantage at every step (AgentEvolver pads missing labels with
 *   GOOD instead; a failed judge should not invent credit).
 * - A group of one trajectory gets outcome advantage 0, but its steps are still z-scored among themselves.
 */
export function adcaGroupAdvantages(input: AdcaGroupInput, options: AdcaOptions): AdcaGroupResult {
  const { outcomes, stepLabels, stepCounts } = input;
  if (stepLabels.length !== outcomes.length || stepCounts.length !== outcomes.length) {
    throw advantageShapeError(
      `a group needs one outcome, one label list and one step count per trajectory; got ${outcomes.length} outcomes, ` +
        `${stepLabels.length} label lists and ${stepCounts.length} step counts`,
    );
  }
  stepLabels.forEach((labels, i) => {
    if (labels !== null && labels.length !== stepCounts[i]) {
      throw advantageShapeError(`trajectory ${i} has ${stepCounts[i]} steps but ${labels.length} labels`, { index: i });
    }
  });

  const outcomeAdvantages = groupZScores(outcomes, options);
  const pooled = groupZScores(stepLabels.flatMap((labels) => labels ?? []), options);

  const stepAdvantages: number[][] = [];
  const stepRewards: number[][] = [];
  const fellBack: boolean[] = [];
  let offset = 0;
  stepLabels.forEach((labels, i) => {
    const count = stepCounts[i];
    if (labels === null) {
      fellBack.push(true);
      stepRewards.push(Array.from({ length: count }, (_, j) => (j === count - 1 ? outcomeAdvantages[i] : 0)));
      stepAdvantages.push(new Array<number>(count).fill(outcomeAdvantages[i]));
      return;
    }
    const stepZ = pooled.slice(offset, offset + count);
    offset += count;
    const rewards = stepZ.map((z, j) => options.alpha * z + (j === count - 1 ? outcomeAdvantages[i] : 0));
    fellBack.push(false);
    stepRewards.push(rewards);
    stepAdvantages.push(suffixSums(rewards));
  });
  return { stepAdvantages, stepRewards, outcomeAdvantages, fellBack };
}

/** Repeats each step's advantage once per sampled token of that step (the vectors' flattened token layout). */
export function broadcastToStepTokens(stepAdvantages: readonly number[], stepTokenCounts: readonly number[]): number[] {
  if (stepAdvantages.length !== stepTokenCounts.length) {
    throw advantageShapeError(
      `${stepAdvantages.length} step advantages but ${stepTokenCounts.length} step token counts`,
    );
  }
  return stepAdvantages.flatMap((advantage, j) => new Array<number>(stepTokenCounts[j]).fill(advantage));
}

export type AlphaSchedule = { kind: "constant" } | { kind: "cosine"; alphaMin: number; totalSteps: number };

/**
 * Alpha at a training step. Cosine decay without warmup, as AgentEvolver does:
 * alpha_t = alphaMin + 0.5 * (alpha - alphaMin) * (1 + cos(pi * p)), p = clamp(step / totalSteps, 0, 1).
 */
export function alphaAt(alpha: number, schedule: AlphaSchedule, trainingStep: number): number {
  if (schedule.kind === "constant") return alpha;
  const progress = schedule.totalSteps > 0 ? Math.min(1, Math.max(0, trainingStep / schedule.totalSteps)) : 0;
  return schedule.alphaMin + 0.5 * (alpha - schedule.alphaMin) * (1 + Math.cos(Math.PI * progress));
}
