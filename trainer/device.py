"""Where the trainer runs and in which dtype: `auto` takes CUDA when torch sees a GPU, else the CPU; on a GPU that
supports bfloat16 the weights are bfloat16 (half the memory and the GPU's fast path), elsewhere float32. Logits,
logprobs and losses are float32 whatever the weights (model.py promotes them)."""
import ctypes
from typing import Optional, Tuple

import torch

DEVICES = ("auto", "cpu", "cuda")


def choose_device(requested: str, cuda_available: bool, bf16_supported: bool) -> Tuple[str, torch.dtype]:
    """(device, dtype) for a requested device; pure, so that the choice is tested on machines without a GPU."""
    if requested not in DEVICES:
        raise ValueError(f"unknown device '{requested}' (supported: {', '.join(DEVICES)})")
    device = requested
    if requested == "auto":
        device = "cuda" if cuda_available else "cpu"
    elif requested == "cuda" and not cuda_available:
        raise ValueError("device cuda was asked for, but torch sees no CUDA device (use auto or cpu)")
    dtype = torch.bfloat16 if device == "cuda" and bf16_supported else torch.float32
    return device, dtype


def detect_device(requested: str) -> Tuple[str, torch.dtype]:
    cuda = torch.cuda.is_available()
    return choose_device(requested, cuda, cuda and torch.cuda.is_bf16_supported())


def openblas_core() -> Optional[str]:
    """The kernels the OpenBLAS that torch loaded runs (e.g. "SkylakeX", "Haswell", "Prescott"), or None where torch
    uses another BLAS or the process map cannot be read. The trainer reports it when it starts: an OpenBLAS that does
    not know the CPU falls back to old kernels (trainer/__init__.py), and the update then takes twice as long."""
    try:
        with open("/proc/self/maps") as maps:
            path = next((line.split()[-1] for line in maps if "libopenblas" in line), None)
        if path is None:
            return None
        core = ctypes.CDLL(path).openblas_get_corename
    except (OSError, AttributeError):
        return None
    core.restype = ctypes.c_char_p
    return core().decode()
