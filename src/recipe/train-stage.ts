// One policy update from one iteration's trajectories: outcomes and verdicts → per-token advantages (GRPO, or
// ADCA-GRPO when attribution is on) → datums (only tokens the policy sampled are in the loss) → forward-backward
// with the PPO-style loss (and, with sft.replay_drills, cross-entropy on replayed warm-start drills) → one optimizer
// step per mini-batch.
import { computeTrajectoryAdvantages, AttributionConfig, type TrajectoryJudgment } from "../evolve/attributing/index.js";
import type { Trajectory } from "../agent/index.js";
import { adamParamsOf, buildDatum, evolverPpoForwardBackward, trajectorySequences, type EvolverPpoRoute, type TinkerDatum, type TrainingClient } from "../train/index.js";
import type { EvolveConfig } from "./config.js";
import { deriveSeed, sampleSeeded } from "../core/random.js";

export async function trainStage(options: {
  config: EvolveConfig;
  training: TrainingClient;
  trajectories: Trajectory[];
  judgments: TrajectoryJudgment[] | null;
  iteration: number;
  /** How evolver_ppo runs on this trainer (policy.ts); default native. */
  route?: EvolverPpoRoute;
  /** The warm start's drills as datums (cross-entropy weights): sft.replay_drills of them join every mini-batch. */
  replay?: readonly TinkerDatum[];
  signal?: AbortSignal;
}): Promise<Record<string, number>> {
  const { config, trajectories } = options;
  const started = performance.now();
  const { advantages, stats } = computeTrajectoryAdvantages(trajectories, options.judgments, attributionSettings(config), options.iteration);

  const datums: TinkerDatum[] = [];
  let untrainable = 0;
  let sampledTokens = 0;
  // sequences whose every advantage is 0: their group saw no difference (all failed alike, or all succeeded)
  let flat = 0;
  let sequences = 0;
  trajectories.forEach((trajectory, i) => {
    if (trajectory.segments.length === 0) {
      untrainable += 1; // an API model's rollout: evaluated, never trained on
      return;
    }
    for (const sequence of trajectorySequences(trajectory, advantages[i].segmentAdvantages)) {
      const advantageValues = sequence.advantages as number[];
      sampledTokens += sequence.lossMask.reduce((n, m) => n + m, 0);
      const zero = advantageValues.every((a) => a === 0);
      sequences += 1;
      if (zero) flat += 1;
      // With no KL or entropy term, a sequence whose every advantage is 0 adds nothing to the loss or its gradient;
      // with no KL term, a solved group's adds only the entropy bonus.
      const solved = zero && trajectory.success && config.optimizer.skip_solved_groups;
      if (config.loss.kl_beta === 0 && (config.loss.entropy_coeff === 0 || solved) && zero) continue;
      datums.push(buildDatum(sequence));
    }
  });

  const metrics: Record<string, number> = {
    "train/reward": mean(trajectories.map((t) => t.reward)),
    "train/success": mean(trajectories.map((t) => (t.success ? 1 : 0))),
    "train/trajectories": trajectories.length,
    "train/datums": datums.length,
    "train/zero_advantage_share": sequences === 0 ? 0 : flat / sequences,
    "train/untrainable": untrainable,
    "attribution/judged": stats.judged,
    "attribution/fallbacks": stats.fallbacks,
    "attribution/alpha": stats.alpha,
  };
  if (datums.length === 0) return metrics;

  const adam = adamParamsOf(config.optimizer);
  // Mini-batches take a fixed, interleaved share of the datums, so every update sees every group.
  const count = Math.min(config.optimizer.mini_batches, datums.length);
  for (let b = 0; b < count; b++) {
    const batch = datums.filter((_, i) => i % count === b);
    const result = await evolverPpoForwardBackward(options.training, batch, config.loss, options.route ?? "native", options.signal);
    if (options.replay && options.replay.length > 0 && config.sft.replay_drills > 0) {
      // Drawn per mini-batch from run.seed, so a resumed run replays the same drills.
      const drawn = sampleSeeded(options.replay, Math.min(config.sft.replay_drills, options.replay.length), deriveSeed(config.run.seed, "sft-replay", options.iteration, b));
      const { datums: replayed, tokens } = weightedForMean(drawn, config.sft.replay_coef);
      // Gradients add up until the optimizer step: the drills' cross-entropy joins this mini-batch's RL gradient.
      const replay = await options.training.forwardBackward(replayed, "cross_entropy", undefined, options.signal);
      metrics["train/replay_loss"] = (metrics["train/replay_loss"] ?? 0) + (replay.metrics["loss:sum"] ?? 0) / config.sft.replay_coef / count;
      metrics["train/replay_tokens"] = (metrics["train/replay_tokens"] ?? 0) + tokens;
    }
    const step = await options.training.optimStep(adam, options.signal);
    for (const [key, value] of Object.entries({ ...result.metrics, ...step.metrics })) {
      metrics[`trainer/${key}`] = (metrics[`trainer/${key}`] ?? 0) + value / count;
    }
  }
  metrics["train/tokens_per_second"] = sampledTokens / ((performance.now() - started) / 1000);
  return metrics;
}

/** The run config's attribution section as the advantage maths takes it: what the update used, and what the audit
 * trail and the dashboard recompute the trained advantages with. */
export function attributionSettings(config: EvolveConfig): AttributionConfig {
  return AttributionConfig.parse({
    enabled: config.attribution.enabled,
    alpha: config.attribution.alpha,
    alphaSchedule:
      config.attribution.alpha_schedule === "cosine"
        ? { kind: "cosine", alphaMin: 0, totalSteps: config.schedule.iterations }
        : { kind: "constant" },
    normalizeStd: config.attribution.normalize_std,
  });
}

/** `datums` with their weights scaled so that their cross-entropy summed is `coef` times its mean per trained token
 * (the RL loss is a mean per token: the two then weigh alike at coef 1). */
function weightedForMean(datums: readonly TinkerDatum[], coef: number): { datums: TinkerDatum[]; tokens: number } {
  const tokens = datums.reduce((n, d) => n + (d.loss_fn_inputs.weights.data as number[]).reduce((a, w) => a + w, 0), 0);
  const scale = coef / Math.max(1, tokens);
  const scaled = datums.map((d) => ({
    ...d,
    loss_fn_inputs: { ...d.loss_fn_inputs, weights: { ...d.loss_fn_inputs.weights, data: (d.loss_fn_inputs.weights.data as number[]).map((w) => w * scale) } },
  }));
  return { datums: scaled, tokens };
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
