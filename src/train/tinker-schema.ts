// The Tinker training protocol's JSON messages (shared/specs/tinker-api.md), as zod schemas with inferred types.
// Requests are built by our own code from these types; responses are parsed leniently (unknown fields pass), since
// the local trainer, SkyRL and hosted Tinker each add fields of their own.
import { z } from "zod";
import { PolicyLossConfig } from "../evolve/attributing/index.js";

// ----- data model (spec §3) -------------------------------------------------------------------------------------------

export const EncodedTextChunk = z.object({ type: z.literal("encoded_text"), tokens: z.array(z.number().int()) });
export type EncodedTextChunk = z.infer<typeof EncodedTextChunk>;

export const ModelInput = z.object({ chunks: z.array(EncodedTextChunk) });
export type ModelInput = z.infer<typeof ModelInput>;

export const TensorDtype = z.enum(["int64", "float32"]);
export type TensorDtype = z.infer<typeof TensorDtype>;

/** A flattened tensor. Servers differ on shape and dtype (SkyRL reads only `data`), so responses may omit them. */
export const TensorData = z.looseObject({
  data: z.array(z.number()),
  dtype: TensorDtype.optional(),
  shape: z.array(z.number().int()).nullish(),
});
export type TensorData = z.infer<typeof TensorData>;

/**
 * One training example. For a full sequence s: model_input = s[:-1], target_tokens = s[1:], and every per-token
 * input (weights, logprobs = the sampler's, advantages, ...) has length len(model_input).
 */
export const Datum = z.object({
  model_input: ModelInput,
  loss_fn_inputs: z.record(z.string(), TensorData),
});
export type Datum = z.infer<typeof Datum>;

/**
 * Tinker's losses (summed over every token, as hosted Tinker does) and Evolver's extension `evolver_ppo`, which the
 * local trainer executes exactly like src/evolve/attributing/loss.ts (token-mean or seq-mean-token-mean).
 */
export const LossFnName = z.enum(["cross_entropy", "importance_sampling", "ppo", "cispo", "evolver_ppo"]);
export type LossFnName = z.infer<typeof LossFnName>;

/** loss_fn_config of `evolver_ppo`: the run config's `loss` section, the same schema (src/evolve/attributing). */
export const EvolverPpoConfig = PolicyLossConfig;
export type EvolverPpoConfig = PolicyLossConfig;

/** Tinker's loss_fn_config is a map of numbers; evolver_ppo adds two string fields and nullable ones. */
export const LossFnConfig = z.record(z.string(), z.union([z.number(), z.string(), z.null()]));
export type LossFnConfig = z.infer<typeof LossFnConfig>;

export const ForwardBackwardInput = z.object({
  data: z.array(Datum),
  loss_fn: LossFnName,
  loss_fn_config: LossFnConfig.nullable(),
});
export type ForwardBackwardInput = z.infer<typeof ForwardBackwardInput>;

export const ForwardBackwardOutput = z.looseObject({
  loss_fn_output_type: z.string().optional(),
  loss_fn_outputs: z.array(z.record(z.string(), TensorData)),
  /** Keys are `name:reduction`, e.g. `loss:sum`. */
  metrics: z.record(z.string(), z.number()).default({}),
});
export type ForwardBackwardOutput = z.infer<typeof ForwardBackwardOutput>;

/**
 * AdamW's settings of one optim_step, and the run config's `optimizer` section (which adds mini_batches): one
 * declaration. The Python trainer's dataclass (trainer/train_step.py AdamParams) has the same fields and defaults,
 * which fill in whatever a request leaves out; src/train/contract.test.ts checks it.
 */
export const AdamParams = z
  .object({
    learning_rate: z.number().positive().default(1e-4),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.95),
    /** torch's default; hosted Tinker's SDK uses 1e-12, which makes AdamW's steps close to sign(gradient). */
    eps: z.number().positive().default(1e-8),
    weight_decay: z.number().min(0).default(0),
    /** Clip the gradient's global norm to this; 0 turns clipping off (SkyRL ignores it). */
    grad_clip_norm: z.number().min(0).default(1.0),
  })
  .strict();
export type AdamParams = z.infer<typeof AdamParams>;

export const OptimStepResult = z.looseObject({ metrics: z.record(z.string(), z.number()).nullish() });
export type OptimStepResult = z.infer<typeof OptimStepResult>;

export const LoraConfig = z.object({
  rank: z.number().int().min(0),
  seed: z.number().int().nullish(),
  train_unembed: z.boolean().optional(),
  train_mlp: z.boolean().optional(),
  train_attn: z.boolean().optional(),
});
export type LoraConfig = z.infer<typeof LoraConfig>;

export const SamplingParams = z.object({
  max_tokens: z.number().int().positive(),
  seed: z.number().int().nullish(),
  stop: z.array(z.number().int()).nullish(),
  temperature: z.number().min(0).default(1),
  top_k: z.number().int().default(-1),
  top_p: z.number().gt(0).max(1).default(1),
});
export type SamplingParams = z.infer<typeof SamplingParams>;

export const SampledSequence = z.looseObject({
  stop_reason: z.enum(["stop", "length"]),
  tokens: z.array(z.number().int()),
  logprobs: z.array(z.number()).nullish(),
});
export type SampledSequence = z.infer<typeof SampledSequence>;

export const SampleResult = z.looseObject({
  sequences: z.array(SampledSequence),
  prompt_logprobs: z.array(z.number().nullable()).nullish(),
});
export type SampleResult = z.infer<typeof SampleResult>;

// ----- futures (spec §2) ----------------------------------------------------------------------------------------------

export const FutureHandle = z.looseObject({ request_id: z.string(), model_id: z.string().nullish() });
export type FutureHandle = z.infer<typeof FutureHandle>;

export const TryAgain = z.looseObject({ type: z.literal("try_again"), queue_state: z.string().optional() });
export const FailedFuture = z.looseObject({ error: z.string(), category: z.string().optional() });
export type FailedFuture = z.infer<typeof FailedFuture>;

/** One line of asample_batch's answer (Evolver's extension): request `index`'s result, its failure ({error,
 * category}, as a failed future), or its refusal ({status, detail}, the 4xx its own asample would get). */
export const SampleBatchLine = z.looseObject({
  index: z.number().int().nonnegative(),
  result: z.unknown().optional(),
  status: z.number().int().optional(),
  detail: z.unknown().optional(),
});
export type SampleBatchLine = z.infer<typeof SampleBatchLine>;

/** A 4xx answer: FastAPI/SkyRL style `{detail}`; `detail` may be a string or validation items. */
export const ErrorDetail = z.looseObject({ detail: z.unknown() });

// ----- endpoint results (spec §5) -------------------------------------------------------------------------------------

/** Any JSON object (heartbeat, telemetry). */
export const Acknowledgement = z.looseObject({});
/** client/config: the server's feature flags; the wire-format ones say how forward_backward and forward may travel. */
export const ClientConfig = z.looseObject({
  pjwt_auth_enabled: z.boolean().optional(),
  /** forward_backward may be sent as protobuf (Content-Type: application/x-protobuf). */
  proto_write_fwdbwd: z.boolean().optional(),
  /** ... zstd-compressed (Content-Encoding: zstd). */
  proto_compress_fwdbwd: z.boolean().optional(),
  /** forward goes to forward_backward as protobuf with forward_only (with proto_write_fwdbwd only). */
  fwd_via_fwdbwd: z.boolean().optional(),
});
export type ClientConfig = z.infer<typeof ClientConfig>;
export const CreateSessionResult = z.looseObject({ session_id: z.string() });
export const CreateModelResult = z.looseObject({ model_id: z.string() });
export const GetInfoResult = z.looseObject({
  model_id: z.string(),
  model_data: z.looseObject({ model_name: z.string().optional() }).optional(),
  is_lora: z.boolean().optional(),
  lora_rank: z.number().nullish(),
});
export type GetInfoResult = z.infer<typeof GetInfoResult>;
export const SaveWeightsResult = z.looseObject({ path: z.string() });
export const LoadWeightsResult = z.looseObject({ path: z.string().nullish() });
export const SaveWeightsForSamplerResult = z.looseObject({
  path: z.string().nullish(),
  sampling_session_id: z.string().nullish(),
});
export const CreateSamplingSessionResult = z.looseObject({ sampling_session_id: z.string() });
/** Evolver's extension of get_server_capabilities (the local trainer sends it; hosted Tinker and SkyRL do not). */
export const EvolverFeatures = z.looseObject({
  loss_fns: z.array(z.string()),
  /** The trainer computes evolver_ppo's KL reference logprobs from its frozen base model. */
  reference_logprobs: z.boolean().default(false),
  /** The trainer computes evolver_ppo's entropy bonus (it needs the full next-token distribution). */
  entropy_bonus: z.boolean().default(false),
  /** The trainer takes asample_batch: many samples in one exchange, answered line by line (tinker-http.ts). */
  sample_batch: z.boolean().default(false),
});
export type EvolverFeatures = z.infer<typeof EvolverFeatures>;

export const ServerCapabilities = z.looseObject({
  supported_models: z.array(z.looseObject({ model_name: z.string(), max_context_length: z.number().nullish() })),
  evolver_features: EvolverFeatures.nullish(),
});
export type ServerCapabilities = z.infer<typeof ServerCapabilities>;
