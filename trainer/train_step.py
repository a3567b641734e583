"""One trainable model: forward-backward over Tinker datums, gradient accumulation, AdamW steps, state in and out.

Datum layout (spec §3): for a full sequence s, model_input = s[:-1] and target_tokens = s[1:]; position i predicts
target_tokens[i], and every per-token input (weights, logprobs, advantages, ...) has the length of model_input.

Gradients accumulate over micro-batches and over forward_backward calls until optim_step, as in Tinker. A request is
split into micro-batches of at most `micro_batch_tokens` padded tokens; every loss is written as a sum of per-token
terms with coefficients fixed for the whole request, so the split changes nothing but memory.
"""
from dataclasses import dataclass, fields
from typing import Dict, List, Optional

import torch

from . import loss as losses
from . import shared_prefix
from .lora import LoraConfig, trainable_parameters
from .model import CausalLM


class UserError(ValueError):
    """A request that cannot be served as sent (bad shapes, unknown loss, token out of range)."""


@dataclass
class Datum:
    tokens: List[int]  # model_input, all encoded_text chunks joined
    inputs: Dict[str, List[float]]  # loss_fn_inputs by name, each flattened


@dataclass
class AdamParams:
    """adam_params of optim_step; absent fields take these defaults. The same fields and defaults as AdamParams in
    src/train/tinker-schema.ts (the run config's `optimizer`); src/train/contract.test.ts checks it."""
    learning_rate: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8  # torch's default (hosted Tinker's SDK sends 1e-12)
    weight_decay: float = 0.0
    grad_clip_norm: float = 1.0  # 0 = no clipping


@dataclass
class LossSpec:
    required: List[str]
    optional: List[str]
    config_keys: List[str]


# Which loss_fn_inputs and loss_fn_config keys each loss reads. `weights` defaults to 1 for every loss.
LOSS_SPECS = {
    "cross_entropy": LossSpec(["target_tokens"], ["weights"], []),
    "importance_sampling": LossSpec(["target_tokens", "logprobs", "advantages"], ["weights"], []),
    "ppo": LossSpec(["target_tokens", "logprobs", "advantages"], ["weights"], ["clip_low_threshold", "clip_high_threshold"]),
    "evolver_ppo": LossSpec(
        ["target_tokens", "logprobs", "advantages"],
        ["weights", "ref_logprobs", "experience_guided"],
        [f.name for f in fields(losses.EvolverPpoConfig)],
    ),
}


def validate_datums(datums: List[Datum], loss_fn: str, config: dict, vocab_size: int, max_length: int) -> None:
    if loss_fn not in LOSS_SPECS:
        raise UserError(f"unknown loss_fn '{loss_fn}' (supported: {', '.join(LOSS_SPECS)})")
    spec = LOSS_SPECS[loss_fn]
    unknown = set(config) - set(spec.config_keys)
    if unknown:
        raise UserError(f"loss_fn_config keys {sorted(unknown)} are not read by '{loss_fn}' (allowed: {spec.config_keys})")
    if not datums:
        raise UserError("forward_backward needs at least one datum")
    for index, datum in enumerate(datums):
        n = len(datum.tokens)
        if n == 0 or n > max_length:
            raise UserError(f"datum {index}: model_input has {n} tokens; it needs 1 to {max_length}")
        missing = [key for key in spec.required if key not in datum.inputs]
        if missing:
            raise UserError(f"datum {index}: loss '{loss_fn}' needs loss_fn_inputs {missing}")
        extra = set(datum.inputs) - set(spec.required) - set(spec.optional)
        if extra:
            raise UserError(f"datum {index}: loss_fn_inputs {sorted(extra)} are not read by '{loss_fn}'")
        for key, values in datum.inputs.items():
            # experience_guided may be one flag for the whole sequence
            if len(values) != n and not (key == "experience_guided" and len(values) == 1):
                raise UserError(f"datum {index}: loss_fn_inputs.{key} has {len(values)} values, model_input has {n} tokens")
        if loss_fn == "evolver_ppo" and ("ref_logprobs" in datum.inputs) != ("ref_logprobs" in datums[0].inputs):
            raise UserError(f"datum {index}: give ref_logprobs for every datum of an evolver_ppo request or for none")
        bad = [t for t in datum.tokens + [int(t) for t in datum.inputs["target_tokens"]] if not 0 <= t < vocab_size]
        if bad:
            raise UserError(f"datum {index}: token id {bad[0]} is outside the vocabulary [0, {vocab_size})")


# A datum joins a micro-batch only while its length is within this factor of the micro-batch's shortest: every row is
# padded to the longest, so one long datum among short ones would multiply their cost (shared_prefix.py pads suffixes
# the same way). The quick start's updates hold a few datums of 195 tokens among 127-token ones: 0.37 s of CPU per
# update against 0.48 s when they were padded along (two real updates, 8 interleaved rounds, load 7-14).
LENGTH_SPREAD = 1.25


def micro_batches(lengths: List[int], micro_batch_tokens: int) -> List[List[int]]:
    """Groups datum indices so that (count x longest) padded tokens stay within the budget, datums of like length
    together: in order of length (a stable sort, so a GRPO group's members, alike in length, stay side by side), a new
    micro-batch when the budget is full or the length passes LENGTH_SPREAD times the micro-batch's shortest."""
    batches, current, shortest = [], [], 0
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        n = lengths[index]
        if current and ((len(current) + 1) * n > micro_batch_tokens or n > shortest * LENGTH_SPREAD):
            batches.append(current)
            current = []
        if not current:
            shortest = n
        current.append(index)
    if current:
        batches.append(current)
    return batches


def target_logprobs(logits, targets):
    """logits (B, T, V), targets (B, T) -> log p(target) (B, T), without keeping a full log_softmax output."""
    return logits.gather(-1, targets[..., None])[..., 0] - torch.logsumexp(logits, dim=-1)


class TrainingModel:
    """`reference`: the frozen base model (for LoRA the same weights with the adapters off, for full fine-tuning an
    untouched copy); evolver_ppo's KL term reads its logprobs where a request brings none."""

    def __init__(self, model: CausalLM, lora: LoraConfig, micro_batch_tokens: int = 2048, reference: Optional[CausalLM] = None,
                 share_prompts: bool = True):
        self.model = model
        self.share_prompts = share_prompts  # shared_prefix.py; False runs every datum whole (the reference it is tested on)
        self.reference = reference
        self.lora = lora
        self.micro_batch_tokens = micro_batch_tokens
        self.optimizer: Optional[torch.optim.AdamW] = None
        self.device = model.lm_head.weight.device
        self.dtype = torch.promote_types(model.lm_head.weight.dtype, torch.float32)  # of logprobs and loss inputs

    # ----- forward / backward ----------------------------------------------------------------------------------------

    def forward_backward(self, datums: List[Datum], loss_fn: str, loss_fn_config: Optional[dict], backward: bool = True) -> dict:
        config = dict(loss_fn_config or {})
        validate_datums(datums, loss_fn, config, self.model.config.vocab_size, self.model.config.max_position_embeddings)
        lengths = [len(d.tokens) for d in datums]
        weights = self._inputs(datums, range(len(datums)), "weights", max(lengths), default=1.0)  # (N, longest), 0 past each
        if loss_fn == "evolver_ppo":
            try:
                ppo_config = losses.EvolverPpoConfig(**config)
            except (TypeError, ValueError) as error:
                raise UserError(f"evolver_ppo config: {error}") from error
            coefficients = losses.aggregation_weights(weights, ppo_config.aggregation)  # over the whole request
            if ppo_config.kl_beta > 0 and "ref_logprobs" not in datums[0].inputs and self.reference is None:
                raise UserError("evolver_ppo: kl_beta > 0 needs ref_logprobs in every datum, or a trainer with the base model as reference")
        outputs: List[dict] = [{} for _ in datums]
        totals = {"loss": 0.0, "pg_loss": 0.0, "kl": 0.0, "entropy": 0.0, "clipped": 0.0, "dual_clipped": 0.0, "trained": 0.0}
        self.model.train(backward)
        for batch in micro_batches(lengths, self.micro_batch_tokens):
            with torch.set_grad_enabled(backward):
                tokens, targets = self._padded(datums, batch)
                rows = torch.tensor(batch, dtype=torch.long, device=self.device)
                batch_weights = weights[rows, : tokens.shape[1]]  # (B, T)
                logprobs, logits_at = self._forward(datums, batch, tokens, targets, batch_weights)  # (B, T)
                if loss_fn == "evolver_ppo":
                    reference = None
                    if ppo_config.kl_beta > 0 and "ref_logprobs" not in datums[0].inputs:
                        with torch.no_grad():
                            reference = target_logprobs(self.reference(tokens), targets)  # (B, T)
                    batch_loss, token_losses = self._evolver_ppo(datums, batch, logprobs, logits_at, batch_weights, coefficients[rows, : tokens.shape[1]],
                                                                 ppo_config, totals, reference)
                else:
                    token_losses = self._tinker_loss(loss_fn, config, datums, batch, logprobs, batch_weights)  # (B, T)
                    batch_loss = token_losses.sum()
                totals["loss"] += float(batch_loss)
                # read back once per micro-batch: a tensor's tolist per row cost more than the loss itself
                logprob_rows, loss_rows = logprobs.detach().cpu().tolist(), token_losses.detach().cpu().tolist()
                for row, index in enumerate(batch):
                    outputs[index] = {"logprobs": logprob_rows[row][: lengths[index]], "elementwise_loss": loss_rows[row][: lengths[index]]}
                if backward:
                    batch_loss.backward()
        metrics = {"loss:sum": totals["loss"], "num_tokens:sum": float((weights != 0).sum())}
        if loss_fn == "evolver_ppo":
            trained = max(totals["trained"], 1.0)
            metrics.update({"pg_loss:sum": totals["pg_loss"], "kl:sum": totals["kl"], "entropy:sum": totals["entropy"],
                            "clip_fraction:mean": totals["clipped"] / trained, "dual_clip_fraction:mean": totals["dual_clipped"] / trained})
        return {"loss_fn_output_type": "scalar", "loss_fn_outputs": outputs, "metrics": metrics}

    def _inputs(self, datums: List[Datum], batch, key: str, width: int, default: Optional[float] = None) -> torch.Tensor:
        """loss_fn_inputs[key] of the datums in `batch`, right-padded with 0 to `width`: (B, width), one tensor made
        from plain lists (a tensor per datum cost more than the loss). `default`: every token's value where a datum has none."""
        padded = []
        for i in batch:
            n = len(datums[i].tokens)
            values = datums[i].inputs.get(key)
            padded.append(([default] * n if values is None else list(values)) + [0.0] * (width - n))
        return torch.tensor(padded, dtype=self.dtype, device=self.device)

    def _forward(self, datums: List[Datum], batch: List[int], tokens, targets, weights):
        """Logprobs (B, T) of the targets of the right-padded batch, and logits_at(rows, positions) -> (N, V) at trained
        positions (weights (B, T) not 0). Each shared prompt and repeated sequence is computed once where that saves
        work (shared_prefix.py)."""
        if self.share_prompts:
            trained = weights != 0  # (B, T); padding has weight 0
            lengths = torch.tensor([len(datums[i].tokens) for i in batch], dtype=torch.long, device=self.device)
            # argmax gives the first of equal maxima: the first trained position (or the length where none is)
            first = torch.where(trained.any(dim=1), trained.to(torch.uint8).argmax(dim=1), lengths).tolist()
            plan = shared_prefix.plan([datums[i].tokens for i in batch], first)
            # past the model's context a padded suffix row would not fit (datums near the limit run whole)
            if plan.saves_work and plan.width <= self.model.config.max_position_embeddings:
                return shared_prefix.forward(self.model, plan, targets, trained)
        logits = self.model(tokens)  # (B, T, V)
        return target_logprobs(logits, targets), lambda rows, positions: logits[rows, positions]

    def _padded(self, datums: List[Datum], batch: List[int]):
        longest = max(len(datums[i].tokens) for i in batch)
        # right padding needs no attention mask: under the causal mask no real position sees a pad position
        tokens = torch.tensor([datums[i].tokens + [0] * (longest - len(datums[i].tokens)) for i in batch], dtype=torch.long, device=self.device)
        targets = torch.tensor([[int(t) for t in datums[i].inputs["target_tokens"]] + [0] * (longest - len(datums[i].tokens)) for i in batch],
                               dtype=torch.long, device=self.device)
        return tokens, targets

    def _tinker_loss(self, loss_fn: str, config: dict, datums: List[Datum], batch: List[int], lp, weights):
        """Tinker's per-token losses over the micro-batch, (B, T) as `lp`: each is the weight times a finite term, so
        padding (weight 0) adds 0."""
        if loss_fn == "cross_entropy":
            return losses.cross_entropy_token_losses(lp, weights)
        q, advantages = (self._inputs(datums, batch, key, lp.shape[1]) for key in ("logprobs", "advantages"))
        if loss_fn == "importance_sampling":
            return losses.importance_sampling_token_losses(lp, q, advantages, weights)
        return losses.tinker_ppo_token_losses(lp, q, advantages, weights, config.get("clip_low_threshold", 0.8), config.get("clip_high_threshold", 1.2))

    def _evolver_ppo(self, datums, batch, logprobs, logits_at, weights, coefficients, config: "losses.EvolverPpoConfig", totals, reference=None):
        """One micro-batch of evolver_ppo through losses.evolver_ppo_loss, every tensor (B, T) as `logprobs`, with the
        aggregation weights of the whole request (so the split changes nothing); adds its parts to `totals`.
        `reference` (B, T): the reference model's logprobs of this micro-batch, used when the datums bring none."""
        width = logprobs.shape[1]
        guided = []
        for i in batch:
            flags = datums[i].inputs.get("experience_guided", [0.0])
            # one flag for the sequence, or one per token
            guided.append([flags[0] != 0] * width if len(flags) == 1 else [f != 0 for f in flags] + [False] * (width - len(flags)))
        guided = torch.tensor(guided, dtype=torch.bool, device=self.device)  # (B, T)
        if "ref_logprobs" in datums[batch[0]].inputs:  # every datum or none (validate_datums)
            reference = self._inputs(datums, batch, "ref_logprobs", width)
        entropies = None
        trained = weights != 0
        if config.entropy_coeff != 0:
            # at trained tokens only: the loss reads no other (evolver_ppo_loss zeroes them), and over every position
            # the entropy's softmax over the vocabulary costs as much as the rest of the loss
            at = trained.nonzero(as_tuple=True)
            entropies = logprobs.new_zeros(logprobs.shape).index_put(at, losses.token_entropy(logits_at(*at)))  # (B, T)
        result = losses.evolver_ppo_loss(logprobs, self._inputs(datums, batch, "logprobs", width), self._inputs(datums, batch, "advantages", width),
                                         weights, config, guided, reference, entropies, coefficients)
        totals["pg_loss"] += result.pg_loss
        totals["kl"] += result.kl
        totals["entropy"] += result.entropy
        totals["clipped"] += float(result.terms.clipped.sum())
        totals["dual_clipped"] += float(result.terms.dual_clipped.sum())
        totals["trained"] += float(trained.sum())
        return result.loss, result.token_losses

    # ----- optimizer ---------------------------------------------------------------------------------------------------

    def trainable(self) -> Dict[str, torch.nn.Parameter]:
        return trainable_parameters(self.model)

    def _ensure_optimizer(self) -> torch.optim.AdamW:
        if self.optimizer is None:
            self.optimizer = torch.optim.AdamW(list(self.trainable().values()), lr=1e-4)
        return self.optimizer

    def optim_step(self, adam: AdamParams) -> dict:
        optimizer = self._ensure_optimizer()
        for group in optimizer.param_groups:
            group.update(lr=adam.learning_rate, betas=(adam.beta1, adam.beta2), eps=adam.eps, weight_decay=adam.weight_decay)
        parameters = [p for p in self.trainable().values() if p.grad is not None]
        max_norm = adam.grad_clip_norm if adam.grad_clip_norm > 0 else float("inf")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(parameters, max_norm)) if parameters else 0.0
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return {"grad_norm:mean": grad_norm, "learning_rate:mean": adam.learning_rate, "step_norm:mean": self._adam_step_norm(adam, parameters)}

    def _adam_step_norm(self, adam: AdamParams, parameters) -> float:
        """L2 norm of the step AdamW just took, lr * m_hat / (sqrt(v_hat) + eps), from its moments (weight decay's
        shrink not included). Unlike the gradient's norm it shows how far the weights moved: AdamW scales a small
        gradient up to the size of its recent ones, so a step is as long when only a small term pushes."""
        total = 0.0
        for p in parameters:
            state = self.optimizer.state[p]
            step = float(state["step"])
            m_hat = state["exp_avg"] / (1 - adam.beta1 ** step)
            v_hat = state["exp_avg_sq"] / (1 - adam.beta2 ** step)
            total += float((adam.learning_rate * m_hat / (v_hat.sqrt() + adam.eps)).pow(2).sum())
        return total ** 0.5

    # ----- state: trainable weights and AdamW moments, as plain named tensors -------------------------------------------

    def weight_tensors(self) -> Dict[str, torch.Tensor]:
        return {name: p.detach().cpu() for name, p in self.trainable().items()}

    def optimizer_tensors(self) -> Dict[str, torch.Tensor]:
        if self.optimizer is None:
            return {}
        out = {}
        for name, parameter in self.trainable().items():
            for key, value in self.optimizer.state.get(parameter, {}).items():
                out[f"{name}.{key}"] = torch.as_tensor(value).detach().cpu().float() if key == "step" else value.detach().cpu()
        return out

    def load_weight_tensors(self, tensors: Dict[str, torch.Tensor]) -> None:
        own = self.trainable()
        if set(tensors) != set(own):
            raise UserError(
                f"checkpoint does not fit this model: missing {sorted(set(own) - set(tensors))[:3]}, "
                f"unexpected {sorted(set(tensors) - set(own))[:3]}"
            )
        with torch.no_grad():
            for name, tensor in tensors.items():
                if own[name].shape != tensor.shape:
                    raise UserError(f"checkpoint tensor '{name}' has shape {tuple(tensor.shape)}, expected {tuple(own[name].shape)}")
                own[name].copy_(tensor)

    def load_optimizer_tensors(self, tensors: Dict[str, torch.Tensor]) -> None:
        optimizer = self._ensure_optimizer()
        optimizer.state.clear()
        for name, parameter in self.trainable().items():
            state = {key: tensors[f"{name}.{key}"].to(self.device, copy=True) for key in ("step", "exp_avg", "exp_avg_sq") if f"{name}.{key}" in tensors}
            if state:
                state["step"] = state["step"].cpu()  # torch keeps the step count on the CPU
                optimizer.state[parameter] = state
