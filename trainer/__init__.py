"""Evolver's local trainer: a Qwen2/Llama decoder in plain torch, LoRA, the RL losses, a KV-cache sampler and a
server speaking the Tinker training protocol (see shared/specs/tinker-api.md). Depends only on torch and numpy.

Files, model first, protocol last:
  model.py          the decoder (config dataclass, RMSNorm, RoPE, GQA attention, SwiGLU, KV cache)
  checkpoint_io.py  HF checkpoints in and out, with its own safetensors reader and writer
  lora.py           LoRA adapters (rank 0 = full fine-tuning)
  loss.py           per-token losses: Tinker's, and evolver_ppo (mirrors src/evolve/attributing/loss.ts)
  sampler.py        KV-cache sampling (temperature, top-k, top-p, stop tokens, seed + i per sample), one request alone
  batching.py       continuous batching: every sequence in flight shares each forward step; a prefix cache
  device.py         where the trainer runs (auto: CUDA when torch sees it, bfloat16 where supported) and its dtype
  train_step.py     forward-backward over Tinker datums, micro-batches, AdamW, state tensors
  shared_prefix.py  a micro-batch's shared prompts and repeated sequences computed once in forward-backward
  checkpoints.py    checkpoints on disk addressed by tinker:// paths
  service.py        models of one base checkpoint, their steps, checkpoints and sampling (no HTTP)
  protocol.py, futures.py, state.py, endpoints.py, server.py   the Tinker protocol over HTTP (server -> endpoints -> state)
  tiny.py, bench_direct.py, bench_update.py          a tiny random checkpoint; the bench's direct baseline; its update figure
"""
import os
from typing import Optional


def openblas_coretype(cpuinfo: str) -> Optional[str]:
    """The OpenBLAS kernel family that an x86 CPU's features (the `flags` line of /proc/cpuinfo) allow: SkylakeX for
    AVX-512 (F, BW, VL, DQ, CD), Haswell for AVX2 with FMA, else None (OpenBLAS's own choice stands)."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            if {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"} <= flags:
                return "SkylakeX"
            if {"avx2", "fma"} <= flags:
                return "Haswell"
            return None
    return None


# OpenBLAS picks its kernels by CPU model, from a table fixed when it was built: Debian 12's 0.3.21 does not know this
# machine's Xeon (family 6, model 207, with AVX-512) and falls back to its SSE3 kernels ("Prescott"). A (2016, 64) x
# (64, 128) product then took 1,163 us against 252 us with the AVX-512 kernels, and matrix products are most of the
# trainer's work. So the kernels are chosen from the CPU's features instead; a user's own OPENBLAS_CORETYPE wins, and
# builds on MKL ignore it. Set before torch loads OpenBLAS.
if "OPENBLAS_CORETYPE" not in os.environ:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            _coretype = openblas_coretype(next((line for line in cpuinfo if line.startswith("flags")), ""))
    except OSError:
        _coretype = None
    if _coretype is not None:
        os.environ["OPENBLAS_CORETYPE"] = _coretype

# OpenBLAS (the BLAS of Debian's torch) runs its own thread pool, one thread per core by default, apart from torch's
# thread count; its waiting threads spin on sched_yield. The quick start on 2 cores: the trainer's CPU per iteration
# halved with one OpenBLAS thread (batched sampling 1.58 -> 0.85 s, unbatched 3.33 -> 1.54 s, updates included; load
# 19-22). Set before
# torch loads OpenBLAS: a user's own OPENBLAS_NUM_THREADS wins. Builds on MKL ignore it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
