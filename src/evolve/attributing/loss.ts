// The reference maths of the policy loss: PPO clipping with separate low/high epsilon, dual-clip for negative
// advantages, a wider high epsilon for experience-guided sequences, the low-variance KL penalty, and aggregation.
// The Python trainer (trainer/loss.py) executes this; both sides are pinned by test/vectors/attribution.json.
// Everything here returns the analytic gradient of the total loss with respect to each token's learner logprob,
// so the vectors pin backward passes too.
import { advantageShapeError } from "./errors.js";
import type { LossAggregation, PolicyLossConfig } from "./schema.js";

export interface PolicyLossInput {
  /** Per sequence, per token: logprob under the policy being trained (the learner). */
  logprobs: readonly (readonly number[])[];
  /** Logprob under the policy that sampled the token (the sampler); the importance ratio is taken against it. */
  oldLogprobs: readonly (readonly number[])[];
  /** Logprob under the frozen reference policy; null when there is no KL penalty. */
  refLogprobs: readonly (readonly number[])[] | null;
  advantages: readonly (readonly number[])[];
  /** 1 where the token is trained on. */
  mask: readonly (readonly number[])[];
  /** Per sequence: whether retrieved experience guided it (it then gets the boosted ceiling). */
  experienceGuided: readonly boolean[];
  /** Per token: the learner's full-vocabulary entropy H(p) at that position; needed only when entropy_coeff > 0. */
  entropies?: readonly (readonly number[])[] | null;
}

export interface PolicyLossResult {
  /** Per token: the policy-gradient part of the loss before aggregation; 0 where the mask is 0. */
  tokenLosses: number[][];
  /** Per token: the KL estimate (unweighted); 0 where the mask is 0; null when refLogprobs is null. */
  kl: number[][] | null;
  /** The aggregated total: aggregate(tokenLosses) + kl_beta · aggregate(kl) - entropy_coeff · aggregate(entropies). */
  loss: number;
  /** The aggregated entropy at trained tokens (0 when entropy_coeff is 0). */
  entropy: number;
  /** d loss / d logprobs, per token; 0 where the mask is 0. The entropy bonus is a function of the whole
   * distribution, not of the sampled token's logprob, so it adds nothing here (its gradient reaches the logits). */
  gradLogprobs: number[][];
  /** Per token importance ratios exp(logprob - oldLogprob); 0 where the mask is 0. */
  ratios: number[][];
  /** Share of trained tokens whose ratio was clipped (their gradient is 0), and of those cut by the dual clip. */
  clipFraction: number;
  dualClipFraction: number;
}

export interface TokenPolicyLoss {
  loss: number;
  /** d loss / d logprob. */
  grad: number;
  ratio: number;
  clipped: boolean;
  dualClipped: boolean;
}

/**
 * PPO's clipped surrogate for one token, as a loss to minimize, with dual-clip (Ye et al. 2019, arXiv:1912.09729).
 *   r = exp(logp - oldLogp)
 *   L_clip = max(-A·r, -A·clip(r, 1-clipLow, 1+ceilingEps))
 *   L = min(L_clip, -c·A) if A < 0 and dual-clip is on, else L_clip
 * The max picks the pessimistic side, so the ratio is clipped only where clipping lowers the objective: above the
 * ceiling for A > 0, below the floor for A < 0. For A < 0 and a very large ratio, -A·r grows without bound; dual-clip
 * caps the loss at -c·A (c = 3 is standard).
 * Gradient: dr/dlogp = r, so the unclipped branch gives -A·r; a clipped or dual-clipped branch is constant in logp and
 * gives 0. At exact ties (r on a clip boundary) we take the unclipped branch; the vectors avoid ties.
 */
export function tokenPolicyLoss(
  logprob: number,
  oldLogprob: number,
  advantage: number,
  clipLow: number,
  ceilingEps: number,
  dualClipC: number | null,
): TokenPolicyLoss {
  const ratio = Math.exp(logprob - oldLogprob);
  const unclipped = -advantage * ratio;
  const clippedRatio = Math.min(Math.max(ratio, 1 - clipLow), 1 + ceilingEps);
  const clippedLoss = -advantage * clippedRatio;
  let loss = unclipped;
  let grad = -advantage * ratio;
  let clipped = false;
  if (clippedLoss > unclipped) {
    loss = clippedLoss;
    grad = 0;
    clipped = true;
  }
  let dualClipped = false;
  if (dualClipC !== null && advantage < 0 && -dualClipC * advantage < loss) {
    loss = -dualClipC * advantage;
    grad = 0;
    dualClipped = true;
  }
  return { loss, grad, ratio, clipped, dualClipped };
}

/**
 * The k3 estimator of KL(policy || reference) (Schulman 2020, "Approximating KL divergence"), verl's `low_var_kl`:
 *   x = ref - logp;  kl = exp(x) - x - 1,  clamped to [-10, 10] as verl does.
 * It is never negative, so only the upper clamp can bind. Gradient: d kl / d logp = 1 - exp(x), and 0 where clamped.
 */
export function lowVarKl(logprob: number, refLogprob: number): { kl: number; grad: number } {
  const x = refLogprob - logprob;
  const raw = Math.exp(x) - x - 1;
  if (raw > 10) return { kl: 10, grad: 0 };
  if (raw < -10) return { kl: -10, grad: 0 };
  return { kl: raw, grad: 1 - Math.exp(x) };
}

/**
 * d loss / d tokenLoss for each token: the aggregation is linear in the token losses, so these weights both aggregate
 * (loss = sum weight·tokenLoss) and carry the gradient.
 * - token-mean: every trained token in the batch counts the same: mask / (trained tokens in the batch).
 * - seq-mean-token-mean: mean over sequences of each sequence's token mean: mask / (its tokens · sequences).
 *   Sequences with no trained token are left out of the sequence count (verl would divide by zero there).
 * With no trained token at all, every weight is 0 and the loss is 0.
 */
export function aggregationWeights(mask: readonly (readonly number[])[], aggregation: LossAggregation): number[][] {
  const perSequence = mask.map((row) => row.reduce((sum, m) => sum + m, 0));
  if (aggregation === "token-mean") {
    const total = perSequence.reduce((sum, n) => sum + n, 0);
    return mask.map((row) => row.map((m) => (total > 0 ? m / total : 0)));
  }
  const sequences = perSequence.filter((n) => n > 0).length;
  return mask.map((row, s) => row.map((m) => (perSequence[s] > 0 ? m / (perSequence[s] * sequences) : 0)));
}

function checkShapes(input: PolicyLossInput): void {
  const rows = input.logprobs.length;
  const named: [string, readonly (readonly number[])[] | null][] = [
    ["oldLogprobs", input.oldLogprobs],
    ["refLogprobs", input.refLogprobs],
    ["advantages", input.advantages],
    ["mask", input.mask],
    ["entropies", input.entropies ?? null],
  ];
  for (const [name, value] of named) {
    if (value === null) continue;
    if (value.length !== rows) throw advantageShapeError(`${name} has ${value.length} sequences, logprobs has ${rows}`);
    value.forEach((row, s) => {
      if (row.length !== input.logprobs[s].length) {
        throw advantageShapeError(
          `${name}[${s}] has ${row.length} tokens, logprobs[${s}] has ${input.logprobs[s].length}`,
        );
      }
    });
  }
  if (input.experienceGuided.length !== rows) {
    throw advantageShapeError(`experienceGuided has ${input.experienceGuided.length} entries, logprobs has ${rows}`);
  }
}

/** The full policy loss over a batch of sequences, its parts, and its gradient with respect to the learner logprobs. */
export function policyLoss(input: PolicyLossInput, config: PolicyLossConfig): PolicyLossResult {
  checkShapes(input);
  const withEntropy = config.entropy_coeff !== 0;
  if (withEntropy && !input.entropies) throw advantageShapeError("entropy_coeff is not 0 but no entropies were given");
  const weights = aggregationWeights(input.mask, config.aggregation);
  const withKl = input.refLogprobs !== null;
  let loss = 0;
  let entropy = 0;
  let trained = 0;
  let clippedCount = 0;
  let dualCount = 0;
  const tokenLosses: number[][] = [];
  const kl: number[][] = [];
  const gradLogprobs: number[][] = [];
  const ratios: number[][] = [];
  input.logprobs.forEach((row, s) => {
    const ceiling = input.experienceGuided[s] && config.clip_high_boost !== null ? config.clip_high_boost : config.clip_high;
    const lossRow: number[] = [];
    const klRow: number[] = [];
    const gradRow: number[] = [];
    const ratioRow: number[] = [];
    row.forEach((logprob, t) => {
      if (input.mask[s][t] === 0) {
        lossRow.push(0);
        klRow.push(0);
        gradRow.push(0);
        ratioRow.push(0);
        return;
      }
      const pg = tokenPolicyLoss(logprob, input.oldLogprobs[s][t], input.advantages[s][t], config.clip_low, ceiling,
        config.dual_clip_c);
      const penalty = withKl ? lowVarKl(logprob, input.refLogprobs![s][t]) : { kl: 0, grad: 0 };
      const weight = weights[s][t];
      const tokenEntropy = withEntropy ? input.entropies![s][t] : 0;
      loss += weight * (pg.loss + config.kl_beta * penalty.kl - config.entropy_coeff * tokenEntropy);
      entropy += weight * tokenEntropy;
      trained += 1;
      if (pg.clipped || pg.dualClipped) clippedCount += 1;
      if (pg.dualClipped) dualCount += 1;
      lossRow.push(pg.loss);
      klRow.push(penalty.kl);
      gradRow.push(weight * (pg.grad + config.kl_beta * penalty.grad));
      ratioRow.push(pg.ratio);
    });
    tokenLosses.push(lossRow);
    kl.push(klRow);
    gradLogprobs.push(gradRow);
    ratios.push(ratioRow);
  });
  return {
    tokenLosses,
    kl: withKl ? kl : null,
    loss,
    entropy,
    gradLogprobs,
    ratios,
    clipFraction: trained > 0 ? clippedCount / trained : 0,
    dualClipFraction: trained > 0 ? dualCount / trained : 0,
  };
}
