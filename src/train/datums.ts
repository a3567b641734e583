// From token sequences to Tinker datums.
//
// Alignment. A sequence s of n tokens becomes model_input = s[0..n-2] and target_tokens = s[1..n-1]: position i of
// the model input predicts token i+1 of s. Every per-token value we hold is indexed by the token of s it belongs to
// (the loss mask, the advantage and the sampler's logprob of token j are about *producing* token j), so each moves
// to position j-1: weights = mask[1..], logprobs = samplerLogprobs[1..], advantages = advantages[1..]. Token 0 is
// predicted by nothing and can never be trained; a mask of 1 there is an error upstream.
import type { Segment, Trajectory } from "../agent/index.js";
import { trainingSequences } from "../agent/index.js";
import { trainerError } from "./errors.js";
import type { Datum, TensorData } from "./tinker-schema.js";

export interface TrainingSequence {
  /** The full token sequence s (prompt, sampled tokens, observations, ...). */
  tokens: number[];
  /** Per token of s: 1 where the token was sampled by the policy and is trained on. */
  lossMask: number[];
  /** Per token of s, or one value for every token. */
  advantages?: number[] | number;
  /** Per token of s: the sampler's logprob (any value where the mask is 0). */
  samplerLogprobs?: number[];
  /** Per token of s: a reference policy's logprob, for the KL penalty of evolver_ppo. */
  refLogprobs?: number[];
  /** Whether retrieved experience guided this sequence (evolver_ppo gives it the boosted clip ceiling). */
  experienceGuided?: boolean;
}

const floats = (data: number[]): TensorData => ({ data, dtype: "float32", shape: [data.length] });

function shifted(name: string, values: number[] | undefined, length: number): number[] | undefined {
  if (values === undefined) return undefined;
  if (values.length !== length) {
    throw trainerError("TRAINER_DATUM_SHAPE", `${name} has ${values.length} values, the sequence has ${length} tokens`, {
      details: { name, values: values.length, tokens: length },
    });
  }
  return values.slice(1);
}

/** One datum from one sequence, with the inputs every loss reads: weights always, the rest when given. */
export function buildDatum(sequence: TrainingSequence): Datum {
  const n = sequence.tokens.length;
  if (n < 2) throw trainerError("TRAINER_DATUM_SHAPE", `a datum needs at least 2 tokens, got ${n}`);
  if (sequence.lossMask[0] === 1) {
    throw trainerError("TRAINER_DATUM_SHAPE", "the first token of a sequence cannot be trained (nothing predicts it)");
  }
  const advantages = typeof sequence.advantages === "number" ? new Array<number>(n).fill(sequence.advantages) : sequence.advantages;
  const inputs: Record<string, TensorData> = {
    target_tokens: { data: sequence.tokens.slice(1), dtype: "int64", shape: [n - 1] },
    weights: floats(shifted("lossMask", sequence.lossMask, n)!),
  };
  const optional: [string, string, number[] | undefined][] = [
    ["logprobs", "samplerLogprobs", sequence.samplerLogprobs],
    ["advantages", "advantages", advantages],
    ["ref_logprobs", "refLogprobs", sequence.refLogprobs],
  ];
  for (const [key, name, values] of optional) {
    const moved = shifted(name, values, n);
    if (moved) inputs[key] = floats(moved);
  }
  if (sequence.experienceGuided !== undefined) inputs.experience_guided = floats([sequence.experienceGuided ? 1 : 0]);
  return { model_input: { chunks: [{ type: "encoded_text", tokens: sequence.tokens.slice(0, -1) }] }, loss_fn_inputs: inputs };
}

/**
 * The training sequences of a trajectory (one, or one per model call; see src/agent/trajectory.ts) with their
 * per-token advantages. Injected experience is stripped: the datum is the context *without* the experience
 * segment's tokens (what the policy must learn to do unguided), while the sampler logprobs stay the ones sampled
 * with the experience in view. Those tokens are then off-policy for the stripped context, which is why
 * `experienceGuided` gives them the wider high clip (clip_high_boost). `segmentAdvantages` has one row per segment of `trajectory.segments` (as
 * computeTrajectoryAdvantages gives). Sampler logprobs are required on every trained token unless
 * `requireLogprobs` is false (cross-entropy needs none).
 */
export function trajectorySequences(
  trajectory: Pick<Trajectory, "id" | "segments" | "experienceGuided">,
  segmentAdvantages: readonly (readonly number[])[],
  options: { requireLogprobs?: boolean } = {},
): TrainingSequence[] {
  if (segmentAdvantages.length !== trajectory.segments.length) {
    throw trainerError("TRAINER_DATUM_SHAPE", `trajectory '${trajectory.id}' has ${trajectory.segments.length} segments but ${segmentAdvantages.length} advantage rows`);
  }
  const advantageOf = new Map<Segment, readonly number[]>(trajectory.segments.map((segment, i) => [segment, segmentAdvantages[i]]));
  const requireLogprobs = options.requireLogprobs ?? true;
  return trainingSequences(trajectory).map((withExperience) => {
    const segments = withExperience.filter((segment) => segment.source !== "experience");
    const tokens: number[] = [];
    const lossMask: number[] = [];
    const advantages: number[] = [];
    const samplerLogprobs: number[] = [];
    let haveLogprobs = true;
    for (const segment of segments) {
      const rowAdvantages = advantageOf.get(segment)!;
      if (rowAdvantages.length !== segment.tokens.length || segment.lossMask.length !== segment.tokens.length) {
        throw trainerError("TRAINER_DATUM_SHAPE", `trajectory '${trajectory.id}': a segment of ${segment.tokens.length} tokens has ${segment.lossMask.length} mask values and ${rowAdvantages.length} advantages`);
      }
      const trained = segment.lossMask.some((m) => m === 1);
      if (trained && (!segment.logprobs || segment.logprobs.length !== segment.tokens.length)) haveLogprobs = false;
      tokens.push(...segment.tokens);
      lossMask.push(...segment.lossMask);
      advantages.push(...rowAdvantages);
      samplerLogprobs.push(...(segment.logprobs ?? segment.tokens.map(() => 0)));
    }
    if (!haveLogprobs && requireLogprobs) {
      throw trainerError("TRAINER_DATUM_SHAPE", `trajectory '${trajectory.id}' has trained tokens without sampler logprobs`);
    }
    return {
      tokens,
      lossMask,
      advantages,
      ...(haveLogprobs ? { samplerLogprobs } : {}),
      experienceGuided: trajectory.experienceGuided,
    };
  });
}
