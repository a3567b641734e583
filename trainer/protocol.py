"""Reading Tinker request bodies (JSON) into the trainer's own types, with a 4xx `HttpError` naming whatever is wrong.
Shapes follow shared/specs/tinker-api.md §3."""
from typing import List, Optional

from .checkpoints import CheckpointError, CheckpointPath
from .sampler import SamplingParams
from .train_step import AdamParams, Datum


class HttpError(Exception):
    """Answered as {"detail": ...} with this status."""

    def __init__(self, status: int, detail: str, headers: Optional[dict] = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


def field(body: dict, name: str, kind, required: bool = True, default=None):
    """body[name], checked against `kind` (bool is not a number here); null counts as absent."""
    if name not in body or body[name] is None:
        if required:
            raise HttpError(422, f"field '{name}' is required")
        return default
    value = body[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise HttpError(422, f"field '{name}' has the wrong type ({type(value).__name__})")
    return value


# Exact types, which is what JSON and protobuf decoding give (bool is not a number here). The set of the types a list
# holds is made at C speed: 1.3 against 9 µs for an isinstance per element of 126 numbers, and a quick-start
# forward_backward request carries some 120,000 numbers.
_NUMBER_TYPES = frozenset((int, float))
_INT_TYPES = frozenset((int,))


def number_list(value, where: str) -> List[float]:
    """TensorData ({data, dtype?, shape?}) or a bare list -> flat list of numbers (shape and dtype are not needed)."""
    data = value.get("data") if isinstance(value, dict) else value
    if not isinstance(data, list) or not set(map(type, data)) <= _NUMBER_TYPES:
        raise HttpError(422, f"{where} must be TensorData {{data: [numbers]}}")
    if isinstance(value, dict) and ("sparse_crow_indices" in value or "sparse_col_indices" in value):
        raise HttpError(422, f"{where}: sparse tensors are not supported")
    return data


def tensor_data(values: List[float]) -> dict:
    return {"data": values, "dtype": "float32", "shape": [len(values)]}


def model_input_tokens(value, where: str) -> List[int]:
    """ModelInput {chunks: [...]} -> its tokens; a chunk without `type` but with `tokens` is text (as SkyRL reads it)."""
    chunks = value.get("chunks") if isinstance(value, dict) else None
    if not isinstance(chunks, list):
        raise HttpError(422, f"{where} must be a ModelInput {{chunks: [...]}}")
    tokens: List[int] = []
    for chunk in chunks:
        kind = chunk.get("type", "encoded_text" if "tokens" in chunk else None) if isinstance(chunk, dict) else None
        if kind != "encoded_text":
            raise HttpError(422, f"{where}: only encoded_text chunks are supported, got {kind!r}")
        chunk_tokens = chunk.get("tokens")
        if not isinstance(chunk_tokens, list) or not set(map(type, chunk_tokens)) <= _INT_TYPES:
            raise HttpError(422, f"{where}: chunk tokens must be a list of integers")
        tokens.extend(chunk_tokens)
    return tokens


def parse_datums(data, where: str) -> List[Datum]:
    if not isinstance(data, list):
        raise HttpError(422, f"{where}.data must be a list of datums")
    datums = []
    for i, datum in enumerate(data):
        if not isinstance(datum, dict):
            raise HttpError(422, f"{where}.data[{i}] must be an object")
        inputs = field(datum, "loss_fn_inputs", dict)
        datums.append(Datum(
            tokens=model_input_tokens(datum.get("model_input"), f"{where}.data[{i}].model_input"),
            inputs={k: number_list(v, f"{where}.data[{i}].loss_fn_inputs.{k}") for k, v in inputs.items()},
        ))
    return datums


def adam_params(body: dict) -> AdamParams:
    raw = field(body, "adam_params", dict)
    defaults = AdamParams()
    values = {k: float(field(raw, k, (int, float), required=False, default=getattr(defaults, k))) for k in vars(defaults)}
    params = AdamParams(**values)
    if params.learning_rate < 0 or not 0 <= params.beta1 < 1 or not 0 <= params.beta2 < 1 or params.eps <= 0 \
            or params.weight_decay < 0 or params.grad_clip_norm < 0:
        raise HttpError(422, f"adam_params out of range: {values} (lr >= 0, 0 <= beta < 1, eps > 0, weight_decay >= 0, grad_clip_norm >= 0)")
    return params


def sampling_params(body: dict) -> SamplingParams:
    raw = field(body, "sampling_params", dict)
    max_tokens = field(raw, "max_tokens", int)
    if max_tokens <= 0:
        raise HttpError(422, f"sampling_params.max_tokens must be > 0, got {max_tokens}")
    stop = raw.get("stop")
    if stop is None:
        stop = []
    if not isinstance(stop, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in stop):
        raise HttpError(422, "sampling_params.stop must be a list of token ids (stop strings need a tokenizer, which this server has not)")
    params = SamplingParams(
        max_tokens=max_tokens,
        temperature=float(field(raw, "temperature", (int, float), False, 1.0)),
        top_p=float(field(raw, "top_p", (int, float), False, 1.0)),
        top_k=field(raw, "top_k", int, False, -1),
        stop_token_ids=stop,
        seed=field(raw, "seed", int, False, None),
    )
    if params.temperature < 0 or not 0 < params.top_p <= 1:
        raise HttpError(422, f"sampling_params: temperature must be >= 0 and top_p in (0, 1]; got {params.temperature}, {params.top_p}")
    return params


def checkpoint_path(tinker_path: str) -> CheckpointPath:
    try:
        return CheckpointPath.parse(tinker_path)
    except CheckpointError as error:
        raise HttpError(422, str(error)) from None
