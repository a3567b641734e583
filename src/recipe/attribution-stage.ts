// Self-attributing for one iteration: every trajectory's steps judged GOOD or BAD, the verdicts stored with it
// (the audit trail). Verdicts already in the store are reused, so a resumed run never judges a step twice.
import { createLlmJudge, createRuleJudge, type StepJudge, type TrajectoryJudgment } from "../evolve/attributing/index.js";
import { createPolicyModel } from "../agent/index.js";
import type { Trajectory } from "../agent/index.js";
import type { RunStore } from "../store/index.js";
import { EvolverError } from "../core/errors.js";
import type { EvolveConfig } from "./config.js";

/** Where the environment scores each step itself (StepResult.reward), a step is GOOD when its reward is positive. */
export const stepRewardJudge: StepJudge = createRuleJudge("step-reward", (trajectory) =>
  trajectory.steps.map((step) => ((step.reward ?? 0) > 0 ? "GOOD" : "BAD")),
);

export async function attributionStage(options: {
  store: RunStore;
  runId: string;
  config: EvolveConfig;
  trajectories: Trajectory[];
  judge: StepJudge;
  signal?: AbortSignal;
}): Promise<TrajectoryJudgment[] | null> {
  const { store, runId, config, judge } = options;
  if (!config.attribution.enabled) return null;
  const judgments: TrajectoryJudgment[] = [];
  const pending: Trajectory[] = [];
  for (const trajectory of options.trajectories) {
    const stored = store.getVerdicts(trajectory.id);
    if (stored) judgments.push(stored.verdicts as TrajectoryJudgment);
    else pending.push(trajectory);
  }
  if (pending.length > 0) {
    const fresh = await judge.judge(
      pending.map((trajectory) => ({ trajectory })),
      { signal: options.signal },
    );
    for (const judgment of fresh) {
      store.saveVerdicts(runId, {
        trajectoryId: judgment.trajectoryId,
        status: judgment.status,
        judge: judgment.judgeModel,
        verdicts: judgment,
        error: judgment.error ?? null,
      });
      judgments.push(judgment);
    }
  }
  return judgments;
}

/** The run's step judge: the environment's step rewards (rule), or an LLM named by a model spec (prepare.ts resolved
 * which, and checked that it can work). */
export async function openJudge(config: EvolveConfig): Promise<{ judge: StepJudge; close(): Promise<void> }> {
  const { attribution } = config;
  if (!attribution.enabled || attribution.judge !== "llm" || !attribution.judge_model) return { judge: stepRewardJudge, close: async () => undefined };
  const loaded = await createPolicyModel(attribution.judge_model, {
    baseUrl: attribution.judge_base_url,
    mode: "chat",
    ...(attribution.judge_context_size === undefined ? {} : { contextSize: attribution.judge_context_size }),
  });
  if (loaded.model.kind !== "chat") throw new EvolverError("CONFIG_INVALID", `${attribution.judge_model} cannot serve as a chat judge`);
  return { judge: createLlmJudge({ provider: loaded.model.provider }), close: () => loaded.close() };
}
