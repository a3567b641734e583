"""LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): y = W x + (alpha / r) * B A x,
with W frozen, A (r, in) he-uniform and B (out, r) zero, so a fresh adapter leaves the model exactly as it was.

An adapted projection stays an nn.Linear (a subclass), so the base parameters keep their HF names
(`...q_proj.weight`) and the adapter adds `...q_proj.lora_A` / `...q_proj.lora_B`. Rank 0 means full fine-tuning.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import CausalLM

ALL_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class LoraConfig:
    rank: int = 32  # 0 = full fine-tuning: every parameter trains, no adapters
    alpha: float = 32.0  # scaling = alpha / rank (SkyRL fixes alpha at 32 too)
    seed: int = 0
    targets: List[str] = field(default_factory=lambda: list(ALL_TARGETS))

    def __post_init__(self):
        unknown = set(self.targets) - set(ALL_TARGETS)
        assert not unknown, f"unknown LoRA targets {sorted(unknown)}; choose from {ALL_TARGETS}"
        assert self.rank >= 0, f"LoRA rank must be >= 0, got {self.rank}"


class LoraLinear(nn.Linear):
    def __init__(self, base: nn.Linear, rank: int, alpha: float, generator: torch.Generator):
        nn.Module.__init__(self)  # skip nn.Linear's allocation: we take the base parameters as they are
        self.in_features, self.out_features = base.in_features, base.out_features
        self.weight, self.bias = base.weight, base.bias
        self.weight.requires_grad_(False)
        if self.bias is not None:
            self.bias.requires_grad_(False)
        bound = math.sqrt(6.0 / self.in_features)  # he-uniform on the fan-in
        lora_A = torch.empty(rank, self.in_features, dtype=base.weight.dtype).uniform_(-bound, bound, generator=generator)
        self.lora_A = nn.Parameter(lora_A.to(base.weight.device))
        self.lora_B = nn.Parameter(torch.zeros(self.out_features, rank, dtype=base.weight.dtype, device=base.weight.device))
        self.scaling = alpha / rank

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scaling

    def merged_weight(self) -> torch.Tensor:
        return self.weight + (self.lora_B @ self.lora_A) * self.scaling


def apply_lora(model: CausalLM, config: LoraConfig) -> None:
    """Freezes the model and adds adapters to the target projections of every layer (rank > 0), or leaves every
    parameter trainable (rank 0). Adapters are created in a fixed order from `seed`, so the same seed gives the same A."""
    if config.rank == 0:
        for parameter in model.parameters():
            parameter.requires_grad_(True)
        return
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    generator = torch.Generator().manual_seed(config.seed)
    for layer in model.model.layers:
        for parent in (layer.self_attn, layer.mlp):
            for name in ALL_TARGETS:
                if name in config.targets and hasattr(parent, name):
                    setattr(parent, name, LoraLinear(getattr(parent, name), config.rank, config.alpha, generator))


def trainable_parameters(model: CausalLM) -> Dict[str, nn.Parameter]:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def adapter_state(model: CausalLM) -> Dict[str, torch.Tensor]:
    return {name: p.detach() for name, p in model.named_parameters() if name.endswith((".lora_A", ".lora_B"))}


def load_adapter_state(model: CausalLM, state: Dict[str, torch.Tensor]) -> None:
    own = dict(model.named_parameters())
    expected = {name for name in own if name.endswith((".lora_A", ".lora_B"))}
    if set(state) != expected:
        raise ValueError(
            f"adapter does not fit this model: missing {sorted(expected - set(state))[:3]}, "
            f"unexpected {sorted(set(state) - expected)[:3]}"
        )
    with torch.no_grad():
        for name, tensor in state.items():
            if own[name].shape != tensor.shape:
                raise ValueError(f"adapter tensor '{name}' has shape {tuple(tensor.shape)}, expected {tuple(own[name].shape)}")
            own[name].copy_(tensor)


def merged_state(model: CausalLM) -> Dict[str, torch.Tensor]:
    """A plain (adapter-free) HF state dict with B A folded into each adapted weight, e.g. for a faster sampler."""
    state = {}
    for name, module in model.named_modules():
        if isinstance(module, LoraLinear):
            state[f"{name}.weight"] = module.merged_weight().detach()
            if module.bias is not None:
                state[f"{name}.bias"] = module.bias.detach()
    for name, p in model.named_parameters():
        if not name.endswith((".lora_A", ".lora_B")) and name not in state:
            state[name] = p.detach()
    return state


def peft_names(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Our adapter names in PEFT's layout (base_model.model.<module>.lora_A.weight), for adapter_model.safetensors."""
    return {f"base_model.model.{name[: -len('.lora_A')]}.{name[-6:]}.weight": t for name, t in state.items()}


def from_peft_names(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    out = {}
    for name, tensor in state.items():
        assert name.startswith("base_model.model.") and name.endswith(".weight"), f"not a PEFT adapter tensor name: {name}"
        out[name[len("base_model.model.") : -len(".weight")]] = tensor
    return out
