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
        """positions (...) int -> cos, sin (..., hd)."""
        # computed per call rather than kept as a buffer: it is tiny, and a model built on the meta device keeps no buffers
        exponents = torch.arange(0, self.head_dim, 2, dtype=torch.float64, device=positions.device) / self.head_dim
        inv_freq = (1.0 / (self.theta**exponents)).float()  # (hd/2,)
        freqs = positions.float()[..., None] * inv_freq  # (..., hd/2)
        angles = torch.cat((freqs, freqs), dim=-1)  # (..., hd)
        return angles.cos(), angles.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(x, cos, sin):
    # x: (B, nh, T, hd); cos, sin: (T, hd) or (B, 1, T, hd)
    return x * cos + rotate_half(x) * sin


class KVCache:
    """Keys and values of every layer for `batch_size` sequences, preallocated for `max_length` positions. Row b has
    `lengths[b]` positions filled; rows may differ (continuous batching keeps sequences of different lengths in one
    batch), and every row attends only to its own filled positions."""

    def __init__(self, config: ModelConfig, batch_size: int, max_length: int, dtype=torch.float32, device="cpu"):
        shape = (batch_size, config.num_key_value_heads, max_length, config.head_dim)
        self.keys = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(config.num_hidden_layers)]
        self.values = [torch.zeros(shape, dtype=dtype, device=device) for _ in range(config.num_hidden_layers)]
        self.lengths = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.max_length = max_length
        self.extent = 0  # positions the current forward reads: max(lengths) + its new tokens

    @property
    def batch_size(self) -> int:
        return self.lengths.shape[0]

    def begin(self, new_tokens: int):
        """Positions (B, T) of the next `new_tokens` tokens of every row."""
        positions = self.lengths[:, None] + torch.arange(new_tokens, device=self.lengths.device)  # (B, T)
        self.extent = int(positions[:, -1].max()) + 1
        assert self.extent <= self.max_length, f"KV cache overflow: {self.extent} positions > max_length {self.max_length}"
        return positions

    def store(self, layer: int, k, v, positions):
        """Writes the new positions of one layer (k, v (B, nkv, T, hd) at positions (B, T)) and returns every row's keys
        and values up to the extent; positions past a row's own are masked by the caller."""
        index = positions[:, None, :, None].expand_as(k)
        self.keys[layer].scatter_(2, index, k)
        self.values[layer].scatter_(2, index, v)
        return self.keys[layer][:, :, : self.extent], self.values[layer][:, :, : self.extent]

    def advance(self, counts):
        """Marks `counts` more positions filled per row (an int, or a (B,) tensor after a right-padded prefill)."""
        self.lengths = self.lengths + counts

    @property
    def length(self) -> int:
        """The filled length when every row has the same."""
        assert bool((self.lengths == self.lengths[0]).all()), f"rows differ in length: {self.lengths.tolist()}"
        return int(self.lengths[0])

    def _from(self, keys, values, lengths, max_length) -> "KVCache":
        copy = KVCache.__new__(KVCache)
        copy.keys, copy.values, copy.lengths, copy.max_length, copy.extent = keys, values, lengths, max_length, 0
        return copy

    def repeat(self, times: int) -> "KVCache":
        """A cache for `times` copies of each sequence (one prefilled prompt, many samples)."""
        return self._from([k.repeat_interleave(times, dim=0) for k in self.keys], [v.repeat_interleave(times, dim=0) for v in self.values],
                          self.lengths.repeat_interleave(times), self.max_length)

    def select(self, rows) -> "KVCache":
        """The rows at these indices (a (n,) long tensor), in that order."""
        return self._from([k.index_select(0, rows) for k in self.keys], [v.index_select(0, rows) for v in self.values],
                          self.lengths.index_select(0, rows), self.max_length)

    @staticmethod
    def concat(caches: List["KVCache"]) -> "KVCache":
        """One cache holding the rows of all, widened to the longest max_length."""
        longest = max(c.max_length for c in caches)

        def widen(t, c):
            return t if c.max_length == longest else F.pad(t, (0, 0, 0, longest - c.max_length))

        layers = range(len(caches[0].keys))
        keys = [torch.cat([widen(c.keys[i], c) for c in caches]) for i in layers]
        values = [torch.cat([widen(c.values[i], c) for c in caches]) for i in layers]
        return caches[0]._from(keys, values, torch.cat([c.lengths for c in caches]), longest)


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

    def forward(self, x, cos, sin, positions, cache: Optional[KVCache] = None):
        """positions (B or 1, T): the absolute position of each query; a query sees the keys at positions up to its own."""
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # (B, nh, T, hd)
        k = self.k_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)  # (B, nkv, T, hd)
        v = self.v_proj(x).view(B, T, self.n_kv_head, self.head_dim).transpose(1, 2)  # (B, nkv, T, hd)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        if cache is not None:
            k, v = cache.store(self.layer_index, k, v, positions)  # (B, nkv, S, hd), S = the cache's extent
        S = k.shape[2]
        # grouped-query attention: each kv head serves `group` consecutive query heads. The group is folded into the
        # query rows, (B, nkv, group*T, hd), so one product per kv head reads the keys and values where they lie; a
        # repeat_interleave of k and v would copy the whole cache every decode step (most of a small model's step).
        group = self.n_head // self.n_kv_head
        q = q.reshape(B, self.n_kv_head, group * T, self.head_dim)
        # q is scaled before the product: the scores are the largest tensor here, and scaling them costs T/hd times more
        scores = (q * (1.0 / math.sqrt(self.head_dim))) @ k.transpose(-2, -1)  # (B, nkv, group*T, S)
        # a query at absolute position p may look at keys 0..p of its own row (later ones are the future, or padding)
        future = torch.arange(S, device=x.device) > positions[:, None, None, :, None]  # (B or 1, 1, 1, T, S)
        if scores.requires_grad:
            # added as a bias, out of place: masked in place through a view, autograd copied the scores' whole gradient
            # back through the view (CopySlices), 9% of an RL update's CPU; an addition's backward copies nothing
            bias = torch.zeros(future.shape, dtype=scores.dtype, device=x.device).masked_fill_(future, float("-inf"))
            scores = (scores.view(B, self.n_kv_head, group, T, S) + bias).view(B, self.n_kv_head, group * T, S)
        else:
            # sampling: in place, without a second tensor of the scores' size (about 6% of a batched prefill)
            scores.view(B, self.n_kv_head, group, T, S).masked_fill_(future, float("-inf"))
        weights = F.softmax(scores.to(torch.promote_types(scores.dtype, torch.float32)), dim=-1).to(q.dtype)
        y = (weights @ v).view(B, self.n_head, T, self.head_dim)
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

    def forward(self, x, cos, sin, positions, cache=None):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, positions, cache)
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

    def forward(self, tokens, cache: Optional[KVCache] = None, advance=None):
        """`advance`: positions filled per row after this call, default T (a right-padded prefill passes each row's own)."""
        B, T = tokens.shape
        if cache is not None:
            positions = cache.begin(T)  # (B, T)
        else:
            positions = torch.arange(T, device=tokens.device)[None, :]  # (1, T)
        cos, sin = self.rotary(positions)  # (B or 1, T, hd) each
        cos, sin = cos[:, None], sin[:, None]  # broadcast over heads
        x = self.embed_tokens(tokens)  # (B, T, C)
        for layer in self.layers:
            x = layer(x, cos, sin, positions, cache)
        if cache is not None:
            cache.advance(T if advance is None else advance)
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

    def forward(self, tokens, cache: Optional[KVCache] = None, advance=None, only=None):
        """tokens (B, T) int64 -> logits (B, T, vocab), in float32 at least (float64 for a float64 model).
        only (B,): the one position per row whose logits are wanted -> (B, vocab); a batched prefill needs just the
        last prompt position of each row, and the full (B, T, vocab) would be most of its memory."""
        assert tokens.dim() == 2, f"tokens must be (B, T), got shape {tuple(tokens.shape)}"
        past = int(cache.lengths.max()) if cache is not None else 0
        assert past + tokens.shape[1] <= self.config.max_position_embeddings, (
            f"sequence of {past + tokens.shape[1]} tokens > max_position_embeddings {self.config.max_position_embeddings}"
        )
        hidden = self.model(tokens, cache, advance)  # (B, T, C)
        if only is not None:
            hidden = hidden[torch.arange(hidden.shape[0], device=hidden.device), only]  # (B, C)
        logits = self.lm_head(hidden)
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
