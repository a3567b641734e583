"""HuggingFace-format checkpoints without the safetensors package.

A .safetensors file is: 8 bytes little-endian header length N, N bytes of JSON header
({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}), then the raw little-endian bytes
of every tensor, offsets counted from the end of the header. A sharded checkpoint adds model.safetensors.index.json,
whose "weight_map" names the shard file of each tensor.
"""
import json
import os
import struct
import sys
import tempfile
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from .model import CausalLM, ModelConfig

assert sys.byteorder == "little", "the safetensors reader assumes a little-endian machine"

SAFETENSORS_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
DTYPE_NAMES = {dtype: name for name, dtype in SAFETENSORS_DTYPES.items()}


def read_safetensors_header(path: str) -> Tuple[dict, int]:
    """Returns (the JSON header, the byte offset where the data section starts)."""
    with open(path, "rb") as f:
        (header_length,) = struct.unpack("<Q", f.read(8))
        if header_length > 100_000_000:
            raise ValueError(f"{path}: safetensors header of {header_length} bytes is implausible")
        header = json.loads(f.read(header_length))
    return header, 8 + header_length


def read_safetensors(path: str, dtype: Optional[torch.dtype] = None) -> Tuple[Dict[str, torch.Tensor], Dict[str, str]]:
    """All tensors of one file (converted to `dtype` when given, floating tensors only) and its metadata."""
    header, data_start = read_safetensors_header(path)
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    with open(path, "rb") as f:
        for name, entry in header.items():
            if entry["dtype"] not in SAFETENSORS_DTYPES:
                raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {entry['dtype']}")
            begin, end = entry["data_offsets"]
            f.seek(data_start + begin)
            raw = bytearray(f.read(end - begin))
            tensor_dtype = SAFETENSORS_DTYPES[entry["dtype"]]
            if len(raw) == 0:
                tensor = torch.zeros(entry["shape"], dtype=tensor_dtype)
            else:
                tensor = torch.frombuffer(raw, dtype=tensor_dtype).reshape(entry["shape"])
            if dtype is not None and tensor.is_floating_point():
                tensor = tensor.to(dtype)
            tensors[name] = tensor
    return tensors, metadata


def write_safetensors(path: str, tensors: Dict[str, torch.Tensor], metadata: Optional[Dict[str, str]] = None) -> None:
    """Writes atomically: to a temporary file in the same folder, then renamed over `path`."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        if tensor.dtype not in DTYPE_NAMES:
            raise ValueError(f"tensor '{name}' has dtype {tensor.dtype}, which safetensors cannot hold here")
        # numpy has no bfloat16: write its bits as int16
        array = (tensor.view(torch.int16) if tensor.dtype == torch.bfloat16 else tensor).numpy()
        blob = array.tobytes()
        header[name] = {"dtype": DTYPE_NAMES[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # the format pads the header to 8 bytes with spaces
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".safetensors")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(header_bytes)))
            f.write(header_bytes)
            for blob in blobs:
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_hf_config(model_dir: str) -> ModelConfig:
    with open(os.path.join(model_dir, "config.json")) as f:
        return ModelConfig.from_hf_config(json.load(f))


def read_hf_state_dict(model_dir: str, dtype: torch.dtype = torch.float32) -> Dict[str, torch.Tensor]:
    """model.safetensors, or every shard listed in model.safetensors.index.json."""
    index_path = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path) as f:
            weight_map = json.load(f)["weight_map"]
        state: Dict[str, torch.Tensor] = {}
        for shard in sorted(set(weight_map.values())):
            tensors, _ = read_safetensors(os.path.join(model_dir, shard), dtype)
            state.update(tensors)
        missing = set(weight_map) - set(state)
        if missing:
            raise ValueError(f"{model_dir}: tensors listed in the index but absent from the shards: {sorted(missing)[:5]}")
        return state
    single = os.path.join(model_dir, "model.safetensors")
    if not os.path.exists(single):
        raise FileNotFoundError(f"{model_dir}: neither model.safetensors nor model.safetensors.index.json")
    return read_safetensors(single, dtype)[0]


def assign_weights(model: CausalLM, state: Dict[str, torch.Tensor], share: bool) -> None:
    """Puts checkpoint tensors into the model. With share=True the tensors become the parameters themselves (no
    copy), so many frozen LoRA models can sit on one base; otherwise they are copied."""
    config = model.config
    state = dict(state)
    if config.tie_word_embeddings:
        state.pop("lm_head.weight", None)  # some tied checkpoints store it anyway
    expected = {name for name in model.state_dict() if not (config.tie_word_embeddings and name == "lm_head.weight")}
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:
        raise ValueError(f"checkpoint does not fit the config: missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}")
    for name, tensor in state.items():
        module_name, _, attribute = name.rpartition(".")
        module = model.get_submodule(module_name)
        current = getattr(module, attribute)
        if tuple(current.shape) != tuple(tensor.shape):
            raise ValueError(f"tensor '{name}' has shape {tuple(tensor.shape)}, the config wants {tuple(current.shape)}")
        value = tensor if share else tensor.detach().clone()
        setattr(module, attribute, nn.Parameter(value, requires_grad=current.requires_grad))
    if config.tie_word_embeddings:
        model.lm_head.weight = model.model.embed_tokens.weight


def build_model(config: ModelConfig, state: Dict[str, torch.Tensor], share: bool) -> CausalLM:
    """A model holding `state` (shared or copied), built on the meta device so nothing is allocated twice."""
    model = CausalLM(config, device="meta")
    assign_weights(model, state, share)
    return model


def load_hf_model(model_dir: str, dtype: torch.dtype = torch.float32) -> CausalLM:
    return build_model(read_hf_config(model_dir), read_hf_state_dict(model_dir, dtype), share=True)


def hf_config_dict(config: ModelConfig) -> dict:
    model_type = "qwen2" if config.attention_bias else "llama"
    return {
        "architectures": ["Qwen2ForCausalLM" if model_type == "qwen2" else "LlamaForCausalLM"],
        "model_type": model_type,
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "num_key_value_heads": config.num_key_value_heads,
        "head_dim": config.head_dim,
        "rms_norm_eps": config.rms_norm_eps,
        "rope_theta": config.rope_theta,
        "attention_bias": config.attention_bias,
        "tie_word_embeddings": config.tie_word_embeddings,
        "max_position_embeddings": config.max_position_embeddings,
        "hidden_act": "silu",
        "torch_dtype": "float32",
    }


def save_hf_model(model: CausalLM, model_dir: str) -> None:
    """config.json + model.safetensors (the tied lm_head is left out, as HF does)."""
    os.makedirs(model_dir, exist_ok=True)
    state = {name: p for name, p in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    write_safetensors(os.path.join(model_dir, "model.safetensors"), state, {"format": "pt"})
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(hf_config_dict(model.config), f, indent=2)
