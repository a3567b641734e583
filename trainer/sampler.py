"""Autoregressive sampling with a KV cache: the prompt is prefilled once, then `num_samples` continuations are
decoded together, one token per step.

Randomness: sample i draws only from its own torch.Generator seeded with seed + i (as SkyRL does), so a sample does
not depend on how many others were asked for.

Logprobs: each returned logprob is the model's own log-probability of the sampled token at temperature 1, before
temperature, top-k or top-p reshape the distribution (Tinker returns the model's logprobs too). It is the same number
a `forward` of the same weights gives for that token, so an on-policy importance ratio is exactly 1.
"""
import os
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F

from .model import CausalLM, KVCache


@dataclass
class SamplingParams:
    max_tokens: int
    temperature: float = 1.0  # 0 = greedy
    top_p: float = 1.0
    top_k: int = -1  # -1 = no limit
    stop_token_ids: Sequence[int] = field(default_factory=tuple)  # a stop token is included in the output
    seed: Optional[int] = None  # None = a fresh random seed


@dataclass
class SampledSequence:
    tokens: List[int]
    logprobs: List[float]
    stop_reason: str  # "stop" | "length"


def filter_logits(logits, top_k: int, top_p: float):
    """Sets to -inf every logit outside the top-k and outside the smallest set whose probability reaches top_p."""
    if 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = F.softmax(sorted_logits, dim=-1)
        mass_before = probs.cumsum(-1) - probs  # probability of the strictly more likely tokens
        drop_sorted = mass_before >= top_p  # the most likely token always stays (its mass_before is 0)
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def choose_tokens(logits, params: SamplingParams, generators: List[torch.Generator]):
    """logits (B, V) -> token ids (B,)."""
    if params.temperature == 0:
        return logits.argmax(dim=-1)
    probs = F.softmax(filter_logits(logits / params.temperature, params.top_k, params.top_p), dim=-1)
    return torch.stack([torch.multinomial(probs[i], 1, generator=generators[i])[0] for i in range(len(generators))])


@torch.no_grad()
def sample(model: CausalLM, prompt_tokens: List[int], params: SamplingParams, num_samples: int = 1) -> List[SampledSequence]:
    assert len(prompt_tokens) > 0, "the prompt must have at least one token"
    assert params.max_tokens > 0, f"max_tokens must be > 0, got {params.max_tokens}"
    total = len(prompt_tokens) + params.max_tokens
    assert total <= model.config.max_position_embeddings, (
        f"prompt ({len(prompt_tokens)}) + max_tokens ({params.max_tokens}) > context {model.config.max_position_embeddings}"
    )
    device = model.lm_head.weight.device
    seed = params.seed if params.seed is not None else int.from_bytes(os.urandom(4), "little")
    generators = [torch.Generator(device="cpu").manual_seed(seed + i) for i in range(num_samples)]
    stop_ids = torch.tensor(sorted(set(params.stop_token_ids)), dtype=torch.long, device=device)

    cache = KVCache(model.config, 1, total, dtype=model.lm_head.weight.dtype, device=device)
    prompt = torch.tensor([prompt_tokens], dtype=torch.long, device=device)  # (1, P)
    logits = model(prompt, cache)[:, -1]  # (1, V)
    cache = cache.repeat(num_samples)
    logits = logits.expand(num_samples, -1)  # (N, V)

    tokens = [[] for _ in range(num_samples)]
    logprobs = [[] for _ in range(num_samples)]
    finished = torch.zeros(num_samples, dtype=torch.bool)
    for step in range(params.max_tokens):
        chosen = choose_tokens(logits.cpu(), params, generators)  # (N,)
        model_logprobs = F.log_softmax(logits.float(), dim=-1).cpu()  # temperature 1, see the module docstring
        for i in range(num_samples):
            if not finished[i]:
                tokens[i].append(int(chosen[i]))
                logprobs[i].append(float(model_logprobs[i, chosen[i]]))
        finished |= torch.isin(chosen, stop_ids.cpu())
        if bool(finished.all()) or step == params.max_tokens - 1:
            break
        logits = model(chosen.to(device)[:, None], cache)[:, -1]  # (N, V)

    return [
        SampledSequence(tokens[i], logprobs[i], "stop" if tokens[i] and tokens[i][-1] in set(params.stop_token_ids) else "length")
        for i in range(num_samples)
    ]


@torch.no_grad()
def prompt_logprobs(model: CausalLM, prompt_tokens: List[int]) -> List[Optional[float]]:
    """Logprob of each prompt token given the ones before it; the first has none (Tinker's layout)."""
    device = model.lm_head.weight.device
    logits = model(torch.tensor([prompt_tokens], dtype=torch.long, device=device))[0]  # (P, V)
    logps = F.log_softmax(logits[:-1].float(), dim=-1)
    targets = torch.tensor(prompt_tokens[1:], dtype=torch.long, device=device)
    return [None] + logps.gather(-1, targets[:, None])[:, 0].tolist()
