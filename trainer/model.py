"""A Qwen2 / Llama decoder-only transformer in plain torch, readable in one sitting.

References:
1) the Qwen2 and Llama model code of HuggingFace transformers (modeling_qwen2.py, modeling_llama.py), whose parameter
   names we keep so that an HF checkpoint loads with no renaming;
2) nanoGPT's model.py, whose layout we follow: smallest class first, a config dataclass, shapes on the line.

Qwen2 and Llama differ here only in that Qwen2 has biases on the q/k/v projections (`attention_bias`).
"""
import math
from dataclasses import dataclass
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 151936
    hidden_size: int = 896
    intermediate_size: int = 4864
    num_hidden_layers: int = 24
    num_attention_heads: int = 14
    num_key_value_heads: int = 2  # grouped-query attention: each kv head serves num_attention_heads / this query heads
    head_dim: Optional[int] = None  # None means hidden_size // num_attention_heads
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1000000.0
    attention_bias: bool = True  # Qwen2: biases on q, k, v (never on o); Llama: none
    tie_word_embeddings: bool = True  # lm_head shares the embedding matrix (Qwen2 0.5B does; larger models do not)
    max_position_embeddings: int = 32768

    def __post_init__(self):
        if self.head_dim is None:
            self.head_dim = self.hidden_size // self.num_attention_heads
        assert self.num_attention_heads % self.num_key_value_heads == 0, (
            f"num_attention_heads {self.num_attention_heads} is not a multiple of "
            f"num_key_value_heads {self.num_key_value_heads}"
        )

    @staticmethod
    def from_hf_config(hf: dict) -> "ModelConfig":
        """Reads an HF config.json dict (model_type qwen2 or llama)."""
        model_type = hf.get("model_type", "qwen2")
        if model_type not in ("qwen2", "llama"):
            raise ValueError(f"unsupported model_type '{model_type}' (supported: qwen2, llama)")
        if hf.get("rope_scaling"):
            raise ValueError(f"rope_scaling {hf['rope_scaling']} is not supported")
        return ModelConfig(
            vocab_size=hf["vocab_size"],
            hidden_size=hf["hidden_size"],
            intermediate_size=hf["intermediate_size"],
            num_hidden_layers=hf["num_hidden_layers"],
            num_attention_heads=hf["num_attention_heads"],
            num_key_value_heads=hf.get("num_key_value_heads", hf["num_attention_heads"]),
            head_dim=hf.get("head_dim"),
            rms_norm_eps=hf.get("rms_norm_eps", 1e-6),
            rope_theta=hf.get("rope_theta", 10000.0),
            attention_bias=hf.get("attention_bias", model_type == "qwen2"),
            tie_word_embeddings=hf.get("tie_word_embeddings", False),
            max_position_embeddings=hf.get("max_position_embeddings", 32768),
        )


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float, device=None):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size, device=device))
        self.eps = eps

    def forward(self, x):
        # normalize in float32 at least, whatever the weights' dtype, as the reference implementations do
        wide = x.to(torch.promote_types(x.dtype, torch.float32))
        wide = wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * wide.to(x.dtype)


class RotaryEmbedding(nn.Module):
    """cos/sin tables for rotary position embeddings, HF layout: the two halves of each head are rotated as a pair."""

    def __init__(self, head_dim: int, theta: float):
        super().__init__()
        self.head_dim, self.theta = head_dim, theta

    def forward(self, positions):
        # computed per call rather than kept as a buffer: it is tiny, and a model built on the meta device keeps no buffers
        exponents = torch.arange(0, self.head_dim, 2, dtype=torch.float64, device=positions.device) / self.head_dim
        inv_freq = (1.0 / (self.theta**exponents)).float()  # (hd/2,)
        freqs = positions.float()[:, None] * inv_freq[None, :]  # (T, hd/2)
        angles = torch.cat((freqs, freqs), dim=-1)  # (T, hd)
        return angles.cos(), angles.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(x, cos, sin):
    # x: (B, nh, T, hd); cos, sin: (T, hd)
    return x * cos + rotate_half(x) * sin


class KVCache:
    """Keys and values of every layer, preallocated for `max_length` positions; `length` positions are filled."""

    def __init__(self, config: ModelConfig, batch_size: int, max_length: int, dtype=torch.float32, device="cpu"):
        shape = (batch_size, config.num_key_value_heads, max_length, config.head_dim)
        self.keys = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(config.num_hidden_layers)]
        self.values = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(config.num_hidden_layers)]
        self.length = 0
        self.max_length = max_length

    def store(self, layer: int, k, v):
        """Writes the new positions of one layer and returns all keys and values so far."""
        start, end = self.length, self.length + k.shape[2]
        assert end <= self.max_length, f"KV cache overflow: {end} positions > max_length {self.max_length}"
        self.keys[layer][:, :, start:end] = k
        self.values[layer][:, :, start:end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def repeat(self, times: int) -> "KVCache":
        """A cache for `times` copies of each sequence (one prefilled prompt, many samples)."""
        copy = KVCache.__new__(KVCache)
        copy.keys = [k.repeat_interleave(times, dim=0) for k in self.keys]
        copy.values = [v.repeat_interleave(times, dim=0) for v in self.values]
        copy.length, copy.max_length = self.length, self.max_length
        return copy


class Attention(nn.Module):
    def __init__(self, config: ModelConfig, layer_index: int, device=None):
        super().__init__()
        self.layer_index = layer_index
        self.n_head = config.num_attention_heads
        self.n_kv_head = config.num_key_value_heads
        self.head_dim = config.head_dim
        q_size, kv_size = self.n_head * self.head_dim, self.n_kv_head * self.head_dim
        self.q_proj = nn.Linear(config.hidden_size, q_size, bias=config.attention_bias, device=device)
        self.k_proj = nn.Linear(config.hidden_size, kv_size, bias=config.attention_bias, device=device)
        self.v_proj = nn.Linear(config.hidden_size, kv_size, bias=config.attention_bias, device=device)
        self.o_proj = nn.Linear(q_size, config.hidden_size, bias=False, device=device)

    def forward(self, x, cos, sin, cache: Optional[KVCache] = None):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # (B, nh, T, hd)
        k = self.k_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)  # (B, nkv, T, hd)
        v = self.v_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)  # (B, nkv, T, hd)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.store(self.layer_index, k, v)  # (B, nkv, past + T, hd)
        S = k.shape[2]
        # grouped-query attention: each kv head is shared by n_head / n_kv_head consecutive query heads
        group = self.n_head // self.n_kv_head
        k = k.repeat_interleave(group, dim=1)  # (B, nh, S, hd)
        v = v.repeat_interleave(group, dim=1)  # (B, nh, S, hd)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)  # (B, nh, T, S)
        # query i sits at absolute position past + i and may look at keys 0..past + i
        query_positions = torch.arange(past, past + T, device=x.device)[:, None]
        key_positions = torch.arange(S, device=x.device)[None, :]
        scores = scores.masked_fill(key_positions > query_positions, float("-inf"))
        weights = F.softmax(scores.to(torch.promote_types(scores.dtype, torch.float32)), dim=-1).to(q.dtype)
        y = weights @ v  # (B, nh, T, hd)
        y = y.transpose(1, 2).reshape(B, T, self.n_head * self.head_dim)
        return self.o_proj(y)


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, config: ModelConfig, device=None):
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False, device=device)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False, device=device)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False, device=device)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, config: ModelConfig, layer_index: int, device=None):
        super().__init__()
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps, device)
        self.self_attn = Attention(config, layer_index, device)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps, device)
        self.mlp = MLP(config, device)

    def forward(self, x, cos, sin, cache=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache)
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x


class Decoder(nn.Module):
    """The stack without the output head (HF's `model.` prefix)."""

    def __init__(self, config: ModelConfig, device=None):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, device=device)
        self.layers = nn.ModuleList([DecoderLayer(config, i, device) for i in range(config.num_hidden_layers)])
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps, device)
        self.rotary = RotaryEmbedding(config.head_dim, config.rope_theta)

    def forward(self, tokens, cache: Optional[KVCache] = None):
        B, T = tokens.shape
        past = cache.length if cache is not None else 0
        cos, sin = self.rotary(torch.arange(past, past + T, device=tokens.device))  # (T, hd) each
        x = self.embed_tokens(tokens)  # (B, T, C)
        for layer in self.layers:
            x = layer(x, cos, sin, cache)
        if cache is not None:
            cache.length += T
        return self.norm(x)


class CausalLM(nn.Module):
    """device="meta" builds the structure without memory or initialization, for weights assigned right after."""

    def __init__(self, config: ModelConfig, device=None):
        super().__init__()
        self.config = config
        self.model = Decoder(config, device)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False, device=device)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, tokens, cache: Optional[KVCache] = None):
        """tokens (B, T) int64 -> logits (B, T, vocab), in float32 at least (float64 for a float64 model)."""
        assert tokens.dim() == 2, f"tokens must be (B, T), got shape {tuple(tokens.shape)}"
        past = cache.length if cache is not None else 0
        assert past + tokens.shape[1] <= self.config.max_position_embeddings, (
            f"sequence of {past + tokens.shape[1]} tokens > max_position_embeddings {self.config.max_position_embeddings}"
        )
        logits = self.lm_head(self.model(tokens, cache))
        return logits.to(torch.promote_types(logits.dtype, torch.float32))

    def parameter_names(self) -> List[str]:
        """Names as in an HF checkpoint (the tied lm_head is not listed twice)."""
        return [name for name, _ in self.named_parameters()]


def init_random_weights(model: CausalLM, seed: int, std: float = 0.02) -> None:
    """Small normal weights and biases, unit norms: a tiny model that is random but numerically tame."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):
                parameter.fill_(1.0)
            else:
                parameter.normal_(0.0, std, generator=generator)
