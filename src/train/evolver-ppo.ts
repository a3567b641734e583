// evolver_ppo on any Tinker server. A trainer that offers the loss (the local trainer) computes it, entropy bonus and
// KL reference included. Elsewhere (hosted Tinker, SkyRL: cross_entropy and importance_sampling only) the update is
// built from a built-in loss: a forward pass gives the learner's current logprob of every token, the reference maths
// (src/evolve/attributing/loss.ts) gives the gradient of the evolver_ppo loss with respect to each of them, and
// forward_backward with cross_entropy weighted by the negative gradient has exactly that gradient (cross_entropy's
// loss is -sum(w · logprob), so d/d logprob = -w). This is the linearisation Tinker's forward_backward_custom uses.
// Terms that need more than the sampled tokens' logprobs (the entropy bonus) cannot go this way.
import { PolicyLossConfig, policyLoss } from "../evolve/attributing/index.js";
import { trainerError } from "./errors.js";
import { evolverPpoLossFnConfig } from "./loss-request.js";
import type { ForwardBackwardResult, TrainingClient } from "./tinker-client.js";
import type { Datum, EvolverFeatures, ServerCapabilities } from "./tinker-schema.js";

export type EvolverPpoRoute = "native" | "linearised";

/** What a trainer offers, from its capabilities; a server that does not say offers Tinker's built-in losses only. */
export function trainerFeatures(capabilities: ServerCapabilities): EvolverFeatures {
  return capabilities.evolver_features ?? { loss_fns: ["cross_entropy", "importance_sampling", "ppo"], reference_logprobs: false, entropy_bonus: false, sample_batch: false };
}

export function evolverPpoRoute(features: EvolverFeatures): EvolverPpoRoute {
  return features.loss_fns.includes("evolver_ppo") ? "native" : "linearised";
}

/** Why this loss config cannot run on a trainer with these features (one line each); empty when it can. */
export function evolverPpoProblems(loss: PolicyLossConfig, features: EvolverFeatures): string[] {
  const problems: string[] = [];
  const native = evolverPpoRoute(features) === "native";
  if (loss.kl_beta > 0 && !(native && features.reference_logprobs)) {
    problems.push("loss.kl_beta: > 0 needs reference logprobs from the frozen base model, which this trainer does not compute (the local trainer does); set loss.kl_beta: 0");
  }
  if (loss.entropy_coeff > 0 && !(native && features.entropy_bonus)) {
    problems.push("loss.entropy_coeff: > 0 needs the full next-token distribution, which only a trainer that computes evolver_ppo itself has (the local trainer does); set loss.entropy_coeff: 0");
  }
  if (!native && !features.loss_fns.includes("cross_entropy")) {
    problems.push(`trainer: it offers neither evolver_ppo nor cross_entropy (offers: ${features.loss_fns.join(", ")})`);
  }
  return problems;
}

function values(datum: Datum, key: string): number[] | undefined {
  return datum.loss_fn_inputs[key]?.data;
}

/** One forward-backward of evolver_ppo by either route; gradients accumulate on the trainer until optimStep. */
export async function evolverPpoForwardBackward(
  training: TrainingClient,
  datums: Datum[],
  loss: PolicyLossConfig,
  route: EvolverPpoRoute,
  signal?: AbortSignal,
): Promise<ForwardBackwardResult> {
  if (route === "native") return training.forwardBackward(datums, "evolver_ppo", evolverPpoLossFnConfig(loss), signal);
  const problems = evolverPpoProblems(loss, { loss_fns: ["cross_entropy"], reference_logprobs: false, entropy_bonus: false, sample_batch: false });
  if (problems.length > 0) throw trainerError("TRAINER_BAD_REQUEST", problems.join("; "));
  const plain = datums.map((datum) => ({
    model_input: datum.model_input,
    loss_fn_inputs: { target_tokens: datum.loss_fn_inputs.target_tokens, ...(datum.loss_fn_inputs.weights ? { weights: datum.loss_fn_inputs.weights } : {}) },
  }));
  const current = await training.forward(plain, "cross_entropy", undefined, signal);
  const mask = datums.map((datum, i) => values(datum, "weights") ?? current.lossFnOutputs[i].logprobs.map(() => 1));
  const result = policyLoss(
    {
      logprobs: current.lossFnOutputs.map((output) => output.logprobs),
      oldLogprobs: datums.map((datum, i) => values(datum, "logprobs") ?? current.lossFnOutputs[i].logprobs),
      refLogprobs: null,
      advantages: datums.map((datum, i) => values(datum, "advantages") ?? mask[i].map(() => 0)),
      mask,
      experienceGuided: datums.map((datum) => (values(datum, "experience_guided")?.[0] ?? 0) !== 0),
    },
    loss,
  );
  const weighted = plain.map((datum, i) => ({
    model_input: datum.model_input,
    loss_fn_inputs: {
      target_tokens: datum.loss_fn_inputs.target_tokens,
      weights: { data: result.gradLogprobs[i].map((g) => -g), dtype: "float32" as const, shape: [result.gradLogprobs[i].length] },
    },
  }));
  const applied = await training.forwardBackward(weighted, "cross_entropy", undefined, signal);
  return {
    lossFnOutputs: current.lossFnOutputs,
    metrics: {
      // the evolver_ppo loss at the current weights (the cross_entropy call's own loss is only a device for the gradient)
      "loss:sum": result.loss,
      "pg_loss:sum": result.loss,
      "clip_fraction:mean": result.clipFraction,
      "dual_clip_fraction:mean": result.dualClipFraction,
      ...(applied.metrics["trainer_seconds:sum"] !== undefined ? { "trainer_seconds:sum": applied.metrics["trainer_seconds:sum"] } : {}),
    },
  };
}
