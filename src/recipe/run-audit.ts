// A run's audit trail, read back from the store: each trained trajectory's steps with their GOOD/BAD verdicts and the
// judge's reasons, beside the advantage each step was trained with. Advantages are not stored; they are recomputed
// exactly as the update computed them (train-stage.ts), from the same trajectories, verdicts and config. Advantages
// are normalized within a group, so a trajectory's advantages need only its group's other members.
import { computeTrajectoryAdvantages, exportAudit, type AuditReport, type TrajectoryAdvantages, type TrajectoryJudgment } from "../evolve/attributing/index.js";
import { rolloutError, type Trajectory } from "../agent/index.js";
import type { RunStore, TrajectoryPurpose } from "../store/index.js";
import { parseConfig, type EvolveConfig } from "./config.js";
import { attributionSettings } from "./train-stage.js";

/** One audit report, with where it comes from in the run. */
export type RunAuditEntry = AuditReport & { iteration: number; purpose: TrajectoryPurpose };

export function storedRunConfig(store: RunStore, runId: string): EvolveConfig {
  return parseConfig(store.getRun(runId).config, `the stored config of ${runId}`);
}

function judgmentOf(store: RunStore, trajectoryId: string): TrajectoryJudgment | undefined {
  return store.getVerdicts(trajectoryId)?.verdicts as TrajectoryJudgment | undefined;
}

/**
 * The advantages the update of `iteration` gave each trajectory of one group, by trajectory id. Errored rollouts were
 * left out of the update, so they have none.
 */
export function groupAdvantages(store: RunStore, runId: string, config: EvolveConfig, iteration: number, groupKey: string): Map<string, TrajectoryAdvantages> {
  const members = store.listTrajectoryGroup(runId, iteration, "train", groupKey).filter((t) => rolloutError(t) === undefined);
  const judgments = config.attribution.enabled ? members.map((t) => judgmentOf(store, t.id)).filter((j) => j !== undefined) : null;
  const { advantages } = computeTrajectoryAdvantages(members, judgments, attributionSettings(config), iteration);
  return new Map(advantages.map((a) => [a.trajectoryId, a]));
}

/** The audit report of one stored trajectory; undefined when it was never judged. */
export function auditTrajectory(store: RunStore, runId: string, config: EvolveConfig, trajectory: Trajectory, iteration: number, purpose: TrajectoryPurpose): RunAuditEntry | undefined {
  const judgment = judgmentOf(store, trajectory.id);
  if (!judgment) return undefined;
  const advantages = purpose === "train" ? groupAdvantages(store, runId, config, iteration, trajectory.groupKey).get(trajectory.id) : undefined;
  const report = exportAudit(trajectory, judgment, advantages ? { stepAdvantages: advantages.stepAdvantages } : {});
  return { iteration, purpose, ...report };
}

/** Every judged trajectory of the run (or of one iteration), in iteration and group order. */
export function* auditRun(store: RunStore, runId: string, options: { iteration?: number } = {}): Generator<RunAuditEntry> {
  const config = storedRunConfig(store, runId);
  const iterations = options.iteration === undefined ? store.trajectoryIterations(runId, "train") : [options.iteration];
  for (const iteration of iterations) {
    const trajectories = store.listTrajectories(runId, iteration, "train");
    const byGroup = new Map<string, Map<string, TrajectoryAdvantages>>();
    for (const trajectory of trajectories) {
      const judgment = judgmentOf(store, trajectory.id);
      if (!judgment) continue;
      let advantages = byGroup.get(trajectory.groupKey);
      if (!advantages) byGroup.set(trajectory.groupKey, (advantages = groupAdvantages(store, runId, config, iteration, trajectory.groupKey)));
      const stepAdvantages = advantages.get(trajectory.id)?.stepAdvantages;
      yield { iteration, purpose: "train", ...exportAudit(trajectory, judgment, stepAdvantages ? { stepAdvantages } : {}) };
    }
  }
}
