// From trajectories and their judgments to per-token advantages, ready for the trainer. Still pure: the judge has
// already run; this only groups, normalizes and broadcasts.
import type { Trajectory } from "../../agent/index.js";
import { adcaGroupAdvantages, alphaAt, grpoAdvantages, type StepLabelValue } from "./advantages.js";
import { advantageShapeError } from "./errors.js";
import type { AttributionConfig, TrajectoryJudgment } from "./schema.js";

export interface TrajectoryAdvantages {
  trajectoryId: string;
  /** "adca": judged; "grpo": attribution off for this batch; "grpo-fallback": its judgment failed or is missing. */
  source: "adca" | "grpo" | "grpo-fallback";
  /** Per step (in `steps` order): the advantage of each sampled token of that step. */
  stepAdvantages: number[];
  /** Per segment of the trajectory, per token: the advantage; 0 outside policy segments and where lossMask is 0. */
  segmentAdvantages: number[][];
}

export interface AdvantageStats {
  trajectories: number;
  groups: number;
  /** Groups of one trajectory (their outcome advantage is 0). */
  singletonGroups: number;
  /** Trajectories whose judgment was used. */
  judged: number;
  /** Trajectories that fell back to GRPO because their judgment failed or was missing. */
  fallbacks: number;
  /** The alpha used at this training step (0 when attribution is off). */
  alpha: number;
}

/** Whether the judge should run at this training step (config on, and within `attributionSteps` if set). */
export function shouldAttribute(config: AttributionConfig, trainingStep: number): boolean {
  return config.enabled && (config.attributionSteps === undefined || trainingStep < config.attributionSteps);
}

/**
 * Each step's advantage on the tokens that step sampled: tokens of policy segments with lossMask 1 carry the
 * advantage of their segment's step; prompt, environment and experience tokens, and masked policy tokens, carry 0.
 */
export function broadcastToSegments(trajectory: Trajectory, stepAdvantages: readonly number[]): number[][] {
  return trajectory.segments.map((segment) => {
    if (segment.source !== "policy" || segment.step === undefined) return segment.tokens.map(() => 0);
    const step = segment.step;
    if (step < 0 || step >= stepAdvantages.length) {
      throw advantageShapeError(
        `trajectory '${trajectory.id}' has a policy segment for step ${step} but ${stepAdvantages.length} steps`,
        { trajectoryId: trajectory.id, step },
      );
    }
    return segment.lossMask.map((m) => (m === 1 ? stepAdvantages[step] : 0));
  });
}

function groupByKey(trajectories: readonly Trajectory[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  trajectories.forEach((trajectory, index) => {
    const members = groups.get(trajectory.groupKey) ?? [];
    members.push(index);
    groups.set(trajectory.groupKey, members);
  });
  return groups;
}

/**
 * Advantages for a batch. `judgments === null`, attribution disabled, or a training step past `attributionSteps`
 * gives plain GRPO (the outcome z-score on every step). Otherwise ADCA-GRPO per group, with a trajectory whose
 * judgment failed or is missing falling back to GRPO and counted in `stats.fallbacks`.
 */
export function computeTrajectoryAdvantages(
  trajectories: readonly Trajectory[],
  judgments: readonly TrajectoryJudgment[] | null,
  config: AttributionConfig,
  trainingStep: number,
): { advantages: TrajectoryAdvantages[]; stats: AdvantageStats } {
  const attribute = judgments !== null && shouldAttribute(config, trainingStep);
  const alpha = attribute ? alphaAt(config.alpha, config.alphaSchedule, trainingStep) : 0;
  const options = { alpha, normalizeStd: config.normalizeStd, eps: config.eps };
  const byId = new Map((judgments ?? []).map((judgment) => [judgment.trajectoryId, judgment]));
  const groups = groupByKey(trajectories);
  const advantages = new Array<TrajectoryAdvantages>(trajectories.length);
  const stats: AdvantageStats = {
    trajectories: trajectories.length,
    groups: groups.size,
    singletonGroups: 0,
    judged: 0,
    fallbacks: 0,
    alpha,
  };

  for (const members of groups.values()) {
    if (members.length === 1) stats.singletonGroups += 1;
    const outcomes = members.map((i) => trajectories[i].reward);
    if (!attribute) {
      const grpo = grpoAdvantages(outcomes, options);
      members.forEach((i, k) => {
        const stepAdvantages = trajectories[i].steps.map(() => grpo[k]);
        advantages[i] = {
          trajectoryId: trajectories[i].id,
          source: "grpo",
          stepAdvantages,
          segmentAdvantages: broadcastToSegments(trajectories[i], stepAdvantages),
        };
      });
      continue;
    }
    const stepLabels = members.map((i): StepLabelValue[] | null => {
      const judgment = byId.get(trajectories[i].id);
      const usable = judgment?.status === "ok" && judgment.verdicts.length === trajectories[i].steps.length;
      return usable ? judgment.verdicts.map((v) => (v.label === "GOOD" ? 1 : -1)) : null;
    });
    const result = adcaGroupAdvantages(
      { outcomes, stepLabels, stepCounts: members.map((i) => trajectories[i].steps.length) },
      options,
    );
    members.forEach((i, k) => {
      const fellBack = result.fellBack[k];
      if (fellBack) stats.fallbacks += 1;
      else stats.judged += 1;
      const stepAdvantages = result.stepAdvantages[k];
      advantages[i] = {
        trajectoryId: trajectories[i].id,
        source: fellBack ? "grpo-fallback" : "adca",
        stepAdvantages,
        segmentAdvantages: broadcastToSegments(trajectories[i], stepAdvantages),
      };
    });
  }
  return { advantages, stats };
}
