// Schemas of self-attribution: the judge's verdicts (LLM JSON output, parsed leniently), a trajectory's judgment (what
// the store keeps), and the attribution config (strict, every default documented). Types come from the schemas.
import { z } from "zod";

export const StepLabel = z.enum(["GOOD", "BAD"]);
export type StepLabel = z.infer<typeof StepLabel>;

export const StepVerdict = z.object({
  /** Index into the trajectory's steps. */
  step: z.number().int().nonnegative(),
  label: StepLabel,
  /** The judge's reason, kept for the audit trail. */
  reason: z.string(),
});
export type StepVerdict = z.infer<typeof StepVerdict>;

export const StepVerdicts = z.array(StepVerdict);
export type StepVerdicts = z.infer<typeof StepVerdicts>;

export const TrajectoryJudgment = z.object({
  trajectoryId: z.string(),
  /** One per step, in step order, when status is "ok"; empty when it failed. */
  verdicts: StepVerdicts,
  /** The LLM provider id (e.g. "openai:qwen-max"), or "rule:<name>" for a rule judge. */
  judgeModel: z.string(),
  status: z.enum(["ok", "failed"]),
  error: z.string().optional(),
  /** How many judge calls it took (0 for a cache hit or a rule judge). */
  attempts: z.number().int().nonnegative().default(0),
  /** True when the verdicts came from the cache. */
  cached: z.boolean().default(false),
});
export type TrajectoryJudgment = z.infer<typeof TrajectoryJudgment>;

/**
 * What the LLM judge must answer: one entry per step, the reason before the label so the model reasons first.
 * Lenient (extra keys pass) as response schemas should be; the count and the indices are checked afterwards.
 */
export const JudgeOutput = z.object({
  steps: z.array(
    z.object({
      step: z.number().int(),
      reason: z.string(),
      judgment: StepLabel,
    }),
  ),
});
export type JudgeOutput = z.infer<typeof JudgeOutput>;

export const AlphaScheduleConfig = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("constant") }).strict(),
  z
    .object({
      kind: z.literal("cosine"),
      /** Alpha reached at `totalSteps` and kept after it. */
      alphaMin: z.number().nonnegative().default(0),
      /** Training steps over which alpha decays from `alpha` to `alphaMin`. */
      totalSteps: z.number().int().positive(),
    })
    .strict(),
]);
export type AlphaScheduleConfig = z.infer<typeof AlphaScheduleConfig>;

export const JudgeConfig = z
  .object({
    /** Trajectories judged at once. */
    concurrency: z.number().int().positive().default(8),
    /** Judge calls per trajectory before it is marked failed (bad JSON, wrong verdict count, transport error). */
    maxAttempts: z.number().int().positive().default(3),
    /** Each action and observation is cut to this many characters in the prompt (AgentEvolver uses 2000). */
    maxStepChars: z.number().int().positive().default(2000),
    temperature: z.number().min(0).default(0),
    maxTokens: z.number().int().positive().optional(),
  })
  .strict();
export type JudgeConfig = z.infer<typeof JudgeConfig>;

export const AttributionConfig = z
  .object({
    /** Off: plain GRPO, no judge calls. */
    enabled: z.boolean().default(true),
    /** Weight of the step (attribution) reward against the outcome; AgentEvolver recommends 0.05 to 0.2. */
    alpha: z.number().nonnegative().default(0.1),
    alphaSchedule: AlphaScheduleConfig.default({ kind: "constant" }),
    /** Divide by the group std (GRPO); false only centres (Dr. GRPO). */
    normalizeStd: z.boolean().default(true),
    /** Groups whose std is at most eps get advantage 0 (a threshold, not added to the std). */
    eps: z.number().positive().default(1e-6),
    /** Judge only during the first N training steps, plain GRPO after (AgentEvolver's prm_steps); absent: always. */
    attributionSteps: z.number().int().positive().optional(),
    judge: JudgeConfig.default(JudgeConfig.parse({})),
  })
  .strict();
export type AttributionConfig = z.infer<typeof AttributionConfig>;

/**
 * The policy loss (`evolver_ppo`) settings: one declaration for the run config (`loss:`), the trainer request
 * (loss_fn_config, in these very names) and the reference maths in loss.ts. The Python trainer's dataclass
 * (trainer/loss.py EvolverPpoConfig) has the same fields and defaults; src/train/contract.test.ts checks it.
 */
export const PolicyLossConfig = z
  .object({
    /** Ratio floor is 1 - clip_low. */
    clip_low: z.number().min(0).default(0.2),
    /** Ratio ceiling is 1 + clip_high (DAPO's clip-higher uses clip_high > clip_low). */
    clip_high: z.number().min(0).default(0.28),
    /** Ceiling 1 + clip_high_boost for experience-guided sequences (selective boosting; it replaces clip_high there);
     * null: no boost. */
    clip_high_boost: z.number().min(0).nullable().default(null),
    /** Dual-clip constant c > 1 for negative advantages (the loss is capped at -c·A); null turns it off. */
    dual_clip_c: z.number().gt(1).nullable().default(3),
    /** Weight of the KL penalty to the frozen base model (the trainer computes the reference logprobs); 0 turns it off. */
    kl_beta: z.number().min(0).default(0),
    kl_type: z.literal("low_var_kl").default("low_var_kl"),
    aggregation: z.enum(["token-mean", "seq-mean-token-mean"]).default("token-mean"),
    /** Entropy bonus (as verl's entropy_coeff): the loss subtracts entropy_coeff · H(p) at trained tokens, H over the
     * full vocabulary, which only the trainer has; 0 turns it off. */
    entropy_coeff: z.number().min(0).default(0),
  })
  .strict();
export type PolicyLossConfig = z.infer<typeof PolicyLossConfig>;
export type LossAggregation = PolicyLossConfig["aggregation"];
