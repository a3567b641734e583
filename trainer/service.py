"""What the trainer can do, with no HTTP in sight: models created from one base checkpoint, their training steps,
their checkpoints, and sampling from a checkpoint or the base model. server.py maps the Tinker protocol onto this.

One base model per service (as SkyRL). Its weights are read once; LoRA models share them (frozen), full fine-tuning
models (rank 0) copy them.
"""
import os
import secrets
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional

import torch

from .batching import PreparedRequest
from .checkpoint_io import build_model, read_hf_config, read_hf_state_dict
from .checkpoints import CheckpointPath, CheckpointStore, check_name
from .lora import LoraConfig, apply_lora, load_adapter_state
from .model import CausalLM
from .sampler import SamplingParams, prompt_logprobs, sample
from .train_step import AdamParams, Datum, TrainingModel, UserError


@dataclass
class ModelEntry:
    model_id: str
    lora: LoraConfig
    training: TrainingModel


class SamplerCache:
    """The last few sampling models, by checkpoint path and version. Building one for a LoRA checkpoint is cheap
    (the base is shared), but reusing it saves reading the adapter again on every sample request."""

    def __init__(self, capacity: int = 2):
        self.capacity = capacity
        self.entries: "OrderedDict[str, tuple]" = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str, version: str, build):
        with self.lock:
            hit = self.entries.get(key)
            if hit is not None and hit[0] == version:
                self.entries.move_to_end(key)
                return hit[1]
        model = build()
        with self.lock:
            self.entries[key] = (version, model)
            self.entries.move_to_end(key)
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)
        return model


class TrainerService:
    def __init__(self, base_model_dir: str, checkpoint_dir: str, device: str = "cpu", default_lora_rank: int = 32,
                 micro_batch_tokens: int = 2048, base_model_name: Optional[str] = None, dtype: torch.dtype = torch.float32):
        self.base_model_dir = os.path.abspath(base_model_dir)
        self.base_model_name = base_model_name or os.path.basename(self.base_model_dir.rstrip("/"))
        self.device = device
        self.default_lora_rank = default_lora_rank
        self.micro_batch_tokens = micro_batch_tokens
        self.config = read_hf_config(base_model_dir)
        self.dtype = dtype
        self.base_state = {name: t.to(device) for name, t in read_hf_state_dict(base_model_dir, dtype).items()}
        self.base_model = build_model(self.config, self.base_state, share=True).eval()
        for parameter in self.base_model.parameters():
            parameter.requires_grad_(False)
        self.store = CheckpointStore(checkpoint_dir)
        self.models: Dict[str, ModelEntry] = {}
        self.samplers = SamplerCache()
        self.lock = threading.Lock()

    # ----- models ------------------------------------------------------------------------------------------------------

    def accepts_base_model(self, name: Optional[str]) -> bool:
        return name in (None, self.base_model_name, self.base_model_dir)

    def build(self, lora: LoraConfig) -> CausalLM:
        model = build_model(self.config, self.base_state, share=lora.rank > 0)
        apply_lora(model, lora)
        return model

    def create_model(self, model_id: str, lora: LoraConfig) -> None:
        # the frozen base is the KL reference: shared weights, no adapters, never trained (full fine-tuning copies)
        entry = ModelEntry(model_id, lora, TrainingModel(self.build(lora), lora, self.micro_batch_tokens, reference=self.base_model))
        with self.lock:
            self.models[model_id] = entry

    def get(self, model_id: str) -> ModelEntry:
        with self.lock:
            entry = self.models.get(model_id)
        if entry is None:
            raise KeyError(model_id)
        return entry

    def unload_model(self, model_id: str) -> None:
        with self.lock:
            self.models.pop(model_id, None)

    def info(self, model_id: str) -> dict:
        entry = self.get(model_id)
        return {
            "model_id": model_id,
            "model_data": {"model_name": self.base_model_name, "base_model": self.base_model_name, "arch": "qwen2" if self.config.attention_bias else "llama"},
            "is_lora": entry.lora.rank > 0,
            "lora_rank": entry.lora.rank,
            "lora_config": asdict(entry.lora),
            "status": "ready",
        }

    # ----- training ----------------------------------------------------------------------------------------------------

    def forward_backward(self, model_id: str, datums: List[Datum], loss_fn: str, config: Optional[dict], backward: bool) -> dict:
        return self.get(model_id).training.forward_backward(datums, loss_fn, config, backward)

    def optim_step(self, model_id: str, adam: AdamParams) -> dict:
        return {"metrics": self.get(model_id).training.optim_step(adam)}

    # ----- checkpoints ------------------------------------------------------------------------------------------------

    def _meta(self, entry: ModelEntry, kind: str, has_optimizer: bool) -> dict:
        return {"base_model": self.base_model_name, "model_id": entry.model_id, "kind": kind,
                "lora": asdict(entry.lora), "has_optimizer": has_optimizer}

    def save_weights(self, model_id: str, name: str, overwrite: bool) -> str:
        entry = self.get(model_id)
        path = CheckpointPath(model_id, "weights", check_name(name, "checkpoint name"))
        files = {"weights": entry.training.weight_tensors(), "optimizer": entry.training.optimizer_tensors()}
        self.store.save(path, self._meta(entry, "weights", True), files, overwrite)
        return str(path)

    def save_weights_for_sampler(self, model_id: str, name: str) -> str:
        entry = self.get(model_id)
        path = CheckpointPath(model_id, "sampler_weights", check_name(name, "checkpoint name"))
        # a sampler checkpoint is a snapshot the sampling side reads; rewriting a name replaces it
        self.store.save(path, self._meta(entry, "sampler_weights", False), {"weights": entry.training.weight_tensors()}, overwrite=True)
        return str(path)

    def load_weights(self, model_id: str, tinker_path: str, with_optimizer: bool) -> None:
        entry = self.get(model_id)
        path = CheckpointPath.parse(tinker_path)
        meta = self.checkpoint_meta(path)
        if meta["lora"]["rank"] != entry.lora.rank or sorted(meta["lora"]["targets"]) != sorted(entry.lora.targets):
            raise UserError(f"checkpoint {path} has LoRA {meta['lora']}, model {model_id} has {asdict(entry.lora)}")
        entry.training.load_weight_tensors(self.store.load_tensors(path, "weights"))
        if with_optimizer:
            optimizer_state = self.store.load_tensors(path, "optimizer")
            if optimizer_state is None:
                raise UserError(f"checkpoint {path} holds no optimizer state")
            entry.training.load_optimizer_tensors(optimizer_state)

    def checkpoint_meta(self, path: CheckpointPath) -> dict:
        try:
            meta = self.store.load_meta(path)
        except FileNotFoundError as error:
            raise UserError(str(error)) from error
        if meta["base_model"] != self.base_model_name:
            raise UserError(f"checkpoint {path} was trained from '{meta['base_model']}', this server serves '{self.base_model_name}'")
        return meta

    # ----- sampling ----------------------------------------------------------------------------------------------------

    def sampling_model(self, tinker_path: Optional[str]) -> CausalLM:
        if tinker_path is None:
            return self.base_model
        path = CheckpointPath.parse(tinker_path)
        meta = self.checkpoint_meta(path)

        def build() -> CausalLM:
            lora = LoraConfig(**meta["lora"])
            weights = self.store.load_tensors(path, "weights")
            if lora.rank == 0:
                model = build_model(self.config, {**self.base_state, **{k: v.to(self.device) for k, v in weights.items()}}, share=True)
            else:
                model = self.build(lora)
                load_adapter_state(model, weights)
            for parameter in model.parameters():
                parameter.requires_grad_(False)
            return model.eval()

        return self.samplers.get(str(path), meta["uid"], build)  # the meta just read: one file read per request

    def prepare_sample(self, tinker_path: Optional[str], prompt: List[int], params: SamplingParams, num_samples: int,
                       include_prompt_logprobs: bool) -> PreparedRequest:
        """Checks a sample request against the model and finds the model to sample from (UserError if it cannot run)."""
        if not prompt:
            raise UserError("the prompt has no tokens")
        bad = [t for t in prompt + list(params.stop_token_ids) if not 0 <= t < self.config.vocab_size]
        if bad:
            raise UserError(f"token id {bad[0]} is outside the vocabulary [0, {self.config.vocab_size})")
        if len(prompt) + params.max_tokens > self.config.max_position_embeddings:
            raise UserError(f"prompt ({len(prompt)}) + max_tokens ({params.max_tokens}) exceeds the context of {self.config.max_position_embeddings}")
        return PreparedRequest(self.sampling_model(tinker_path), prompt, params, num_samples, include_prompt_logprobs)

    def sample_unbatched(self, request: PreparedRequest) -> dict:
        """One request alone: its own prefill and decode (the reference the batcher is tested against)."""
        sequences = sample(request.model, request.prompt, request.params, request.num_samples)
        return {
            "sequences": [{"tokens": s.tokens, "logprobs": s.logprobs, "stop_reason": s.stop_reason} for s in sequences],
            "prompt_logprobs": prompt_logprobs(request.model, request.prompt) if request.include_prompt_logprobs else None,
            "topk_prompt_logprobs": None,
        }

    def sample(self, tinker_path: Optional[str], prompt: List[int], params: SamplingParams, num_samples: int,
               include_prompt_logprobs: bool) -> dict:
        return self.sample_unbatched(self.prepare_sample(tinker_path, prompt, params, num_samples, include_prompt_logprobs))


def default_lora(rank: int, seed: Optional[int]) -> LoraConfig:
    return LoraConfig(rank=rank, alpha=32.0, seed=seed if seed is not None else secrets.randbelow(2**31))

