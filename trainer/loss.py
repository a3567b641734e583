"""Per-token losses over learner logprobs: pure functions of tensors, no model, no I/O.

Notation (spec §7): token t, weight/mask w_t, learner logprob lp_t of the target token, sampler logprob q_t,
advantage A_t, importance ratio r_t = exp(lp_t - q_t).

Two families:
- Tinker's losses (`cross_entropy`, `importance_sampling`, `ppo`): per-token values reduced by a plain SUM over all
  tokens of all datums, as hosted Tinker does (so `forward_backward_custom` style signed weights keep working).
- `evolver_ppo`, the self-attributing loss that mirrors src/evolve/attributing (tested on the same vectors,
  test/vectors/attribution.json): PPO clipping with separate low/high epsilon, a wider high epsilon for
  experience-guided samples, dual-clip for negative advantages (Ye et al. 2020, "Mastering Complex Control in MOBA
  Games with Deep RL", eq. 5), a KL penalty to a reference policy (Schulman's k3 estimator, verl's low_var_kl) and
  token-mean or seq-mean-token-mean aggregation.
"""
from dataclasses import dataclass
from typing import List, Optional

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
# evolver_ppo


@dataclass
class EvolverPpoConfig:
    clip_low: float = 0.2  # ratio floor 1 - clip_low
    clip_high: float = 0.28  # ratio ceiling 1 + clip_high ("clip-higher", DAPO)
    clip_high_boost: float = 0.0  # experience-guided samples get ceiling 1 + clip_high + clip_high_boost
    dual_clip_c: Optional[float] = 3.0  # for A < 0 the loss is capped at -A * c; None disables dual-clip
    kl_beta: float = 0.0
    kl_type: str = "low_var_kl"
    aggregation: str = "token-mean"  # or "seq-mean-token-mean"


def kl_penalty(logprobs, ref_logprobs, kl_type: str):
    """Per-token estimate of KL(learner || reference) from the sampled tokens."""
    if kl_type == "low_var_kl":
        # k3 = exp(ref - lp) - (ref - lp) - 1 >= 0; clamped as verl does, since exp() of a large gap explodes
        log_ratio = torch.clamp(ref_logprobs - logprobs, -20.0, 20.0)
        return torch.clamp(torch.exp(log_ratio) - log_ratio - 1.0, -10.0, 10.0)
    if kl_type == "kl":  # k1
        return logprobs - ref_logprobs
    if kl_type == "abs":
        return (logprobs - ref_logprobs).abs()
    if kl_type == "mse":  # k2
        return 0.5 * (logprobs - ref_logprobs) ** 2
    raise ValueError(f"unknown kl_type '{kl_type}' (low_var_kl, kl, abs, mse)")


def clipped_policy_token_losses(logprobs, old_logprobs, advantages, clip_low, clip_high, dual_clip_c):
    """PPO with separate epsilons, and dual-clip for negative advantages. `clip_high` may be a tensor (per token).

    For A >= 0: max(-A r, -A clip(r, 1-eps_lo, 1+eps_hi)), the usual pessimistic bound.
    For A < 0 that bound grows without limit as r grows; dual-clip caps it at -A c (c > 1).
    """
    ratio = torch.exp(logprobs - old_logprobs)
    clipped_ratio = torch.maximum(torch.minimum(ratio, 1.0 + clip_high), torch.as_tensor(1.0 - clip_low, dtype=ratio.dtype))
    losses = torch.maximum(-advantages * ratio, -advantages * clipped_ratio)
    if dual_clip_c is not None:
        capped = torch.minimum(losses, -advantages * dual_clip_c)
        losses = torch.where(advantages < 0, capped, losses)
    return losses


def aggregation_coefficients(masks: List[torch.Tensor], aggregation: str) -> List[torch.Tensor]:
    """Per-token coefficients c such that the aggregated loss is sum(c * token_loss) over all tokens of all sequences.

    Being linear, this lets a batch be split into micro-batches and accumulated exactly.
      token-mean:           c = mask / (total mask of the batch)
      seq-mean-token-mean:  c = mask / (mask of its sequence) / (number of sequences)
    A sequence (or batch) whose mask is all zero contributes nothing.
    """
    if aggregation == "token-mean":
        total = sum(float(m.sum()) for m in masks)
        return [m / total if total > 0 else torch.zeros_like(m) for m in masks]
    if aggregation == "seq-mean-token-mean":
        count = len(masks)
        return [m / float(m.sum()) / count if float(m.sum()) > 0 else torch.zeros_like(m) for m in masks]
    raise ValueError(f"unknown aggregation '{aggregation}' (token-mean, seq-mean-token-mean)")


def evolver_ppo_token_losses(logprobs, old_logprobs, advantages, config: EvolverPpoConfig, experience_guided=None, ref_logprobs=None):
    """Per-token (policy loss, kl) for one or more sequences; `experience_guided` broadcasts against the tokens
    (one flag per sequence, or per token). The total per-token loss is policy + kl_beta * kl."""
    clip_high = torch.full_like(logprobs, config.clip_high)
    if experience_guided is not None:
        clip_high = clip_high + config.clip_high_boost * experience_guided.to(logprobs.dtype)
    policy = clipped_policy_token_losses(logprobs, old_logprobs, advantages, config.clip_low, clip_high, config.dual_clip_c)
    if ref_logprobs is not None and config.kl_beta != 0.0:
        kl = kl_penalty(logprobs, ref_logprobs, config.kl_type)
    else:
        kl = torch.zeros_like(logprobs)
    return policy, kl


def evolver_ppo_loss(logprobs: List[torch.Tensor], old_logprobs, advantages, masks, config: EvolverPpoConfig, experience_guided=None, ref_logprobs=None):
    """The whole-batch loss over a list of sequences (each a 1-D tensor): aggregated policy loss + beta * aggregated kl."""
    coefficients = aggregation_coefficients(masks, config.aggregation)
    total = logprobs[0].new_zeros(())
    for i, lp in enumerate(logprobs):
        guided = None if experience_guided is None else torch.as_tensor(experience_guided[i], dtype=lp.dtype)
        ref = None if ref_logprobs is None else ref_logprobs[i]
        policy, kl = evolver_ppo_token_losses(lp, old_logprobs[i], advantages[i], config, guided, ref)
        total = total + (coefficients[i] * (policy + config.kl_beta * kl)).sum()
    return total
