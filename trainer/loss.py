"""Per-token losses over learner logprobs: pure functions of tensors, no model, no I/O.

Notation (spec §7): token t, weight/mask w_t, learner logprob lp_t of the target token, sampler logprob q_t,
advantage A_t, importance ratio r_t = exp(lp_t - q_t).

Two families:
- Tinker's losses (`cross_entropy`, `importance_sampling`, `ppo`): per-token values reduced by a plain SUM over all
  tokens of all datums, as hosted Tinker does (so `forward_backward_custom` style signed weights keep working).
- `evolver_ppo`, the self-attributing loss that mirrors src/evolve/attributing (tested on the same vectors,
  test/vectors/attribution.json): PPO clipping with separate low/high epsilon, a wider high epsilon for
  experience-guided samples, dual-clip for negative advantages (Ye et al. 2019, arXiv:1912.09729), a KL penalty to
  a reference policy (Schulman's k3 estimator, verl's low_var_kl) and token-mean or seq-mean-token-mean aggregation.
"""
from dataclasses import dataclass
from typing import Optional

import torch

# ---------------------------------------------------------------------------------------------------------------------
# Tinker's losses: per-token values, the caller sums them


def cross_entropy_token_losses(logprobs, weights):
    return -weights * logprobs


def importance_sampling_token_losses(logprobs, sampler_logprobs, advantages, weights):
    ratio = torch.exp(logprobs - sampler_logprobs)
    return -weights * ratio * advantages


def tinker_ppo_token_losses(logprobs, sampler_logprobs, advantages, weights, clip_low_threshold=0.8, clip_high_threshold=1.2):
    """Tinker's `ppo`: the thresholds bound the ratio itself (0.8 and 1.2), not an epsilon around 1."""
    ratio = torch.exp(logprobs - sampler_logprobs)
    clipped = torch.clamp(ratio, clip_low_threshold, clip_high_threshold)
    return -weights * torch.minimum(ratio * advantages, clipped * advantages)


# ---------------------------------------------------------------------------------------------------------------------
# evolver_ppo: mirrors src/evolve/attributing/loss.ts term by term


AGGREGATIONS = ("token-mean", "seq-mean-token-mean")
KL_TYPES = ("low_var_kl",)


@dataclass
class EvolverPpoConfig:
    """loss_fn_config of evolver_ppo. The same fields and defaults as PolicyLossConfig in
    src/evolve/attributing/schema.ts (the run config's `loss` section); src/train/contract.test.ts checks it."""

    clip_low: float = 0.2  # ratio floor 1 - clip_low
    clip_high: float = 0.28  # ratio ceiling 1 + clip_high ("clip-higher", DAPO)
    clip_high_boost: Optional[float] = None  # ceiling 1 + clip_high_boost for experience-guided sequences; None: no boost
    dual_clip_c: Optional[float] = 3.0  # for A < 0 the loss is capped at -c A; None: off
    kl_beta: float = 0.0  # 0 turns the KL penalty off
    kl_type: str = "low_var_kl"
    aggregation: str = "token-mean"
    entropy_coeff: float = 0.0  # entropy bonus (as verl's entropy_coeff): the loss subtracts coeff * H at trained tokens

    def __post_init__(self):
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation '{self.aggregation}' (supported: {', '.join(AGGREGATIONS)})")
        if self.kl_type not in KL_TYPES:
            raise ValueError(f"unknown kl_type '{self.kl_type}' (supported: {', '.join(KL_TYPES)})")
        if self.dual_clip_c is not None and self.dual_clip_c <= 1:
            raise ValueError(f"dual_clip_c must be > 1, got {self.dual_clip_c}")
        if self.entropy_coeff < 0:
            raise ValueError(f"entropy_coeff must be >= 0, got {self.entropy_coeff}")


def token_entropy(logits):
    """Entropy of the learner's next-token distribution over the full vocabulary at every position: (..., V) ->
    (...). A bonus on it keeps a policy from collapsing onto one answer before the reward has told answers apart."""
    logp = torch.log_softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)
    return -(logp.exp() * logp).sum(dim=-1)


def low_var_kl(logprobs, ref_logprobs):
    """k3 estimate of KL(learner || reference) per token: x = ref - lp, kl = exp(x) - x - 1, clamped to [-10, 10]
    (as verl). x is clamped to [-20, 20] first, which changes no value (the result would be clamped anyway) but keeps
    exp() finite, so the gradient of a clamped token is 0 rather than 0 * inf."""
    x = torch.clamp(ref_logprobs - logprobs, -20.0, 20.0)
    return torch.clamp(torch.exp(x) - x - 1.0, -10.0, 10.0)


@dataclass
class PolicyTerms:
    policy: torch.Tensor  # per token, 0 where the mask is 0
    kl: torch.Tensor  # per token, unweighted, 0 where the mask is 0 (all 0 without reference logprobs)
    ratios: torch.Tensor  # exp(lp - old), 0 where the mask is 0
    clipped: torch.Tensor  # bool: clipped or dual-clipped (no gradient)
    dual_clipped: torch.Tensor


def policy_terms(logprobs, old_logprobs, advantages, mask, config: EvolverPpoConfig, experience_guided=False, ref_logprobs=None) -> PolicyTerms:
    """Per-token terms of one sequence (or a batch of equal-length rows, with `experience_guided` broadcastable).

      r = exp(lp - old)
      L_clip = max(-A r, -A clip(r, 1 - clip_low, 1 + ceiling))     ceiling = clip_high_boost if guided and set
      L = min(L_clip, -c A)  where A < 0 and dual-clip is on          (Ye et al. 2019, arXiv:1912.09729)
    The max picks the pessimistic side: the ratio is clipped only where that lowers the objective.
    """
    trained = mask != 0
    # masked tokens get ratio 1 inside the maths and 0 outside, so a wild masked logprob cannot make inf or nan
    ratio = torch.exp(torch.where(trained, logprobs - old_logprobs, torch.zeros_like(logprobs)))
    ceiling = torch.full_like(logprobs, config.clip_high)
    if config.clip_high_boost is not None:
        guided = torch.as_tensor(experience_guided, device=logprobs.device).to(torch.bool)
        ceiling = torch.where(guided, torch.full_like(logprobs, config.clip_high_boost), ceiling)
    unclipped = -advantages * ratio
    clipped_loss = -advantages * torch.minimum(torch.clamp(ratio, min=1.0 - config.clip_low), 1.0 + ceiling)
    clipped = clipped_loss > unclipped
    loss = torch.where(clipped, clipped_loss, unclipped)  # ties take the unclipped branch, as the TS maths does
    dual_clipped = torch.zeros_like(clipped)
    if config.dual_clip_c is not None:
        cap = -config.dual_clip_c * advantages
        dual_clipped = (advantages < 0) & (cap < loss)
        loss = torch.where(dual_clipped, cap, loss)
    kl = torch.zeros_like(logprobs)
    if ref_logprobs is not None:
        kl = low_var_kl(logprobs, ref_logprobs)
    zero = torch.zeros_like(logprobs)
    return PolicyTerms(
        policy=torch.where(trained, loss, zero),
        kl=torch.where(trained, kl, zero),
        ratios=torch.where(trained, ratio, zero),
        clipped=(clipped | dual_clipped) & trained,
        dual_clipped=dual_clipped & trained,
    )


def aggregation_weights(masks: torch.Tensor, aggregation: str) -> torch.Tensor:
    """d loss / d token_loss for every token of a right-padded batch of sequences, masks (B, T) with 0 at padding: the
    aggregation is linear in the token losses, so loss = sum(weight * token_loss), and a batch can be split into
    micro-batches and accumulated exactly.
      token-mean:           mask / (trained tokens in the batch)
      seq-mean-token-mean:  mask / (trained tokens of its sequence * sequences with any trained token)
    With no trained token at all every weight is 0."""
    per_sequence = masks.sum(dim=-1, keepdim=True)  # (B, 1)
    if aggregation == "token-mean":
        total = float(masks.sum())
        return masks / total if total > 0 else torch.zeros_like(masks)
    if aggregation == "seq-mean-token-mean":
        sequences = int((per_sequence > 0).sum())
        return torch.where(per_sequence > 0, masks / (per_sequence * sequences), torch.zeros_like(masks))
    raise ValueError(f"unknown aggregation '{aggregation}' (supported: {', '.join(AGGREGATIONS)})")


@dataclass
class EvolverPpoLoss:
    loss: torch.Tensor  # the scalar to differentiate
    token_losses: torch.Tensor  # (B, T): policy + kl_beta * kl - entropy_coeff * entropy, 0 where masked
    terms: PolicyTerms  # each (B, T)
    pg_loss: float  # the aggregated parts of `loss`, detached
    kl: float
    entropy: float


def evolver_ppo_loss(logprobs, old_logprobs, advantages, masks, config: EvolverPpoConfig, experience_guided, ref_logprobs=None,
                     entropies=None, coefficients=None) -> EvolverPpoLoss:
    """The loss over a right-padded batch of sequences, every tensor (B, T) with mask 0 at padding:
    sum(weight * (policy + kl_beta * kl - entropy_coeff * entropy)). `experience_guided`: bool, (B, 1) or (B, T);
    `ref_logprobs`: or None (no KL); `entropies`: token_entropy at each position, needed only when entropy_coeff is not
    0. `coefficients` are the aggregation weights; default aggregation_weights(masks), and a caller that splits a batch
    into micro-batches passes each row's weights computed over the whole batch.

    One set of tensor operations for the whole batch: written per sequence, the quick start's RL update ran some 70
    small operations per datum, forward and backward."""
    if coefficients is None:
        coefficients = aggregation_weights(masks, config.aggregation)
    if config.entropy_coeff != 0 and entropies is None:
        raise ValueError("entropy_coeff is not 0 but no entropies were given")
    terms = policy_terms(logprobs, old_logprobs, advantages, masks, config, experience_guided, ref_logprobs)
    losses = terms.policy + config.kl_beta * terms.kl
    entropy = 0.0
    if config.entropy_coeff != 0:
        h = torch.where(masks != 0, entropies, torch.zeros_like(entropies))
        losses = losses - config.entropy_coeff * h
        entropy = float((coefficients * h).sum())
    return EvolverPpoLoss((coefficients * losses).sum(), losses, terms, float((coefficients * terms.policy).sum()),
                          float((coefficients * terms.kl).sum()), entropy)
