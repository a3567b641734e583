"""One function per Tinker endpoint: (state, body) -> JSON answer. Checks that need no model run here, at once, and
answer 4xx; the work itself goes to a worker through `state.submit`, which answers with a future."""
import secrets
import time
from typing import Optional

from . import wire
from .lora import ALL_TARGETS
from .protocol import HttpError, adam_params, checkpoint_path, field, model_input_tokens, parse_datums, sampling_params, tensor_data
from .service import TrainerService, default_lora
from .state import ServerState
from .train_step import LOSS_SPECS, UserError, validate_datums

MLP_TARGETS = ("gate_proj", "up_proj", "down_proj")


# ----- session and handshake -------------------------------------------------------------------------------------------


def client_config(state: ServerState, body: dict) -> dict:
    # forward_backward and forward (as forward_only) may come as protobuf; not zstd-compressed (server.py says why);
    # no chunk parallelism, plain create_model (the SDK's defaults otherwise assume hosted features); httpx's own
    # transport rather than SDK 0.25's default pyqwest, the transport scripts/tinker-sdk-check.py checked (server.py)
    return {"pjwt_auth_enabled": False, "proto_write_fwdbwd": True, "fwd_via_fwdbwd": True, "proto_compress_fwdbwd": False,
            "parallel_fwdbwd_chunks": False, "create_model_via_load_weights": False, "use_pyqwest_transport": False}


def create_session(state: ServerState, body: dict) -> dict:
    session_id = f"session_{secrets.token_hex(4)}"
    with state.lock:
        state.sessions[session_id] = {"tags": body.get("tags", [])}
    return {"type": "create_session", "session_id": session_id}


def session_heartbeat(state: ServerState, body: dict) -> dict:
    if field(body, "session_id", str) not in state.sessions:
        raise HttpError(404, "unknown session_id")
    return {"type": "session_heartbeat"}


def capabilities(state: ServerState, body: Optional[dict] = None) -> dict:
    service = state.service
    return {
        "supported_models": [{"model_name": service.base_model_name, "max_context_length": service.config.max_position_embeddings}],
        # Evolver's extension: what a client may ask of evolver_ppo here (other Tinker servers send no such field)
        "evolver_features": {"loss_fns": list(LOSS_SPECS), "reference_logprobs": True, "entropy_bonus": True, "sample_batch": True},
    }


def check_base_model(service: TrainerService, base_model: Optional[str]) -> None:
    if not service.accepts_base_model(base_model):
        raise HttpError(422, f"this server serves only '{service.base_model_name}', not '{base_model}'")


# ----- models ----------------------------------------------------------------------------------------------------------


def create_model(state: ServerState, body: dict) -> dict:
    service = state.service
    check_base_model(service, field(body, "base_model", str, required=False))
    raw = field(body, "lora_config", dict, required=False, default={})
    rank = field(raw, "rank", int, required=False, default=service.default_lora_rank)
    if rank < 0:
        raise HttpError(422, f"lora_config.rank must be >= 0, got {rank}")
    lora = default_lora(rank, field(raw, "seed", int, required=False))
    # train_unembed is ignored: the output head never gets an adapter (as on SkyRL/JAX)
    lora.targets = [t for t in ALL_TARGETS if raw.get("train_mlp" if t in MLP_TARGETS else "train_attn", True) is not False]
    if not lora.targets:
        raise HttpError(422, "lora_config: train_mlp and train_attn are both false, nothing would train")
    model_id = f"model_{secrets.token_hex(4)}"
    with state.lock:
        state.known_models[model_id] = lora

    def create():
        service.create_model(model_id, lora)
        return {"model_id": model_id, "base_model": service.base_model_name, "lora_config": {"rank": lora.rank, "seed": lora.seed},
                "type": "create_model"}

    return state.submit(model_id, create, model_id)


def get_info(state: ServerState, body: dict) -> dict:
    model_id = state.require_model(body)
    try:
        return state.service.info(model_id)
    except KeyError:
        raise HttpError(409, f"model {model_id} is still being created") from None


def unload_model(state: ServerState, body: dict) -> dict:
    model_id = state.require_model(body)
    with state.lock:
        state.known_models.pop(model_id)

    def unload():
        state.service.unload_model(model_id)
        return {"model_id": model_id, "status": "unloaded", "type": "unload_model"}

    return state.submit(model_id, unload, model_id)


# ----- training --------------------------------------------------------------------------------------------------------


def forward_backward(state: ServerState, body: dict, backward: bool = True) -> dict:
    service = state.service
    model_id = state.require_model(body)
    name = "forward_backward" if backward else "forward"
    payload = field(body, f"{name}_input", dict)
    datums = parse_datums(payload.get("data"), name)
    loss_fn = field(payload, "loss_fn", str)
    config = field(payload, "loss_fn_config", dict, required=False, default={})
    try:
        validate_datums(datums, loss_fn, config, service.config.vocab_size, service.config.max_position_embeddings)
    except UserError as error:
        raise HttpError(422, str(error)) from None

    def run():
        started = time.perf_counter()
        result = service.forward_backward(model_id, datums, loss_fn, config, backward)
        # the compute time, so that a client can tell the protocol's own cost from the work (bench/trainer.ts)
        result["metrics"]["trainer_seconds:sum"] = time.perf_counter() - started
        result["loss_fn_outputs"] = [{key: tensor_data(values) for key, values in output.items()} for output in result["loss_fn_outputs"]]
        return result

    return state.submit(model_id, run, model_id, body.get("seq_id"), body, kind="forward_backward")


def forward(state: ServerState, body: dict) -> dict:
    return forward_backward(state, body, backward=False)


def forward_backward_proto(state: ServerState, raw: bytes) -> dict:
    """A protobuf ForwardBackwardRequest (SDK >= 0.22 with proto_write_fwdbwd, and every 0.25): read into its JSON body,
    then checked and run exactly as one; forward_only makes it a forward."""
    try:
        body, forward_only = wire.read_forward_backward_request(raw)
    except wire.WireError as error:
        raise HttpError(400, f"the body is not a protobuf ForwardBackwardRequest: {error}") from None
    if forward_only:
        body["forward_input"] = body.pop("forward_backward_input")
    return forward_backward(state, body, backward=not forward_only)


def optim_step(state: ServerState, body: dict) -> dict:
    model_id = state.require_model(body)
    params = adam_params(body)
    return state.submit(model_id, lambda: state.service.optim_step(model_id, params), model_id, body.get("seq_id"), body)


# ----- checkpoints -----------------------------------------------------------------------------------------------------


def save_weights(state: ServerState, body: dict) -> dict:
    service = state.service
    model_id = state.require_model(body)
    name = field(body, "path", str)
    overwrite = bool(body.get("overwrite", False))
    if not overwrite and service.store.exists(checkpoint_path(f"tinker://{model_id}/weights/{name}")):
        raise HttpError(409, f"checkpoint '{name}' of {model_id} already exists")

    def save():
        return {"path": service.save_weights(model_id, name, overwrite), "type": "save_weights"}

    return state.submit(model_id, save, model_id, body.get("seq_id"), body)


def load_weights(state: ServerState, body: dict) -> dict:
    model_id = state.require_model(body)
    tinker_path = field(body, "path", str)
    checkpoint_path(tinker_path)
    with_optimizer = bool(body.get("optimizer", False))

    def load():
        state.service.load_weights(model_id, tinker_path, with_optimizer)
        return {"path": tinker_path, "model_id": model_id, "type": "load_weights"}

    return state.submit(model_id, load, model_id, body.get("seq_id"), body)


def save_weights_for_sampler(state: ServerState, body: dict) -> dict:
    model_id = state.require_model(body)
    name = field(body, "path", str, required=False)
    ephemeral = name is None  # save_weights_and_get_sampling_client: no name, the answer carries a session only
    if ephemeral:
        name = f"ephemeral_{secrets.token_hex(4)}"
    checkpoint_path(f"tinker://{model_id}/sampler_weights/{name}")

    def save():
        saved = state.service.save_weights_for_sampler(model_id, name)
        return {"path": None if ephemeral else saved, "sampling_session_id": state.new_sampling_session(saved),
                "type": "save_weights_for_sampler"}

    return state.submit(model_id, save, model_id, body.get("seq_id"), body)


def weights_info(state: ServerState, body: dict) -> dict:
    tinker_path = field(body, "tinker_path", str)
    try:
        meta = state.service.store.load_meta(checkpoint_path(tinker_path))
    except FileNotFoundError as error:
        raise HttpError(404, str(error)) from None
    targets = meta["lora"]["targets"]
    return {"base_model": meta["base_model"], "is_lora": meta["lora"]["rank"] > 0, "lora_rank": meta["lora"]["rank"],
            "train_unembed": False, "train_mlp": any(t in MLP_TARGETS for t in targets),
            "train_attn": any(t not in MLP_TARGETS for t in targets)}


# ----- sampling --------------------------------------------------------------------------------------------------------


def require_checkpoint(state: ServerState, tinker_path: str) -> str:
    if not state.service.store.exists(checkpoint_path(tinker_path)):
        raise HttpError(404, f"no checkpoint at {tinker_path}")
    return tinker_path


def create_sampling_session(state: ServerState, body: dict) -> dict:
    model_path = field(body, "model_path", str, required=False)
    base_model = field(body, "base_model", str, required=False)
    if (model_path is None) == (base_model is None):
        raise HttpError(422, "give exactly one of model_path and base_model")
    if base_model is not None:
        check_base_model(state.service, base_model)
    else:
        require_checkpoint(state, model_path)
    return {"type": "create_sampling_session", "sampling_session_id": state.new_sampling_session(model_path)}


def sampling_target(state: ServerState, body: dict) -> Optional[str]:
    """The checkpoint an asample reads: its sampling session's, else model_path, else the base model (None)."""
    session_id = field(body, "sampling_session_id", str, required=False)
    if session_id is not None:
        session = state.sampling_sessions.get(session_id)
        if session is None:
            raise HttpError(404, f"unknown sampling_session_id '{session_id}'")
        return session["model_path"]
    model_path = field(body, "model_path", str, required=False)
    if model_path is not None:
        return require_checkpoint(state, model_path)
    check_base_model(state.service, field(body, "base_model", str, required=False))
    return None


def asample(state: ServerState, body: dict) -> dict:
    prompt = model_input_tokens(body.get("prompt"), "prompt")
    params = sampling_params(body)
    num_samples = field(body, "num_samples", int, required=False, default=1)
    if not 1 <= num_samples <= 1024:
        raise HttpError(422, f"num_samples must be in 1..1024, got {num_samples}")
    if body.get("topk_prompt_logprobs"):
        raise HttpError(422, "topk_prompt_logprobs is not supported")
    model_path = sampling_target(state, body)
    with_prompt_logprobs = bool(body.get("prompt_logprobs", False))
    return state.submit_sample(lambda: state.service.prepare_sample(model_path, prompt, params, num_samples, with_prompt_logprobs))


# at most this many samples in one asample_batch: a rollout batch's steps (hundreds) fit many times over
MAX_SAMPLE_BATCH = 4096


class SampleBatch:
    """asample_batch's answer, streamed by server.py: each request's line as soon as it is known. `ready` lines (requests
    refused at once) come first; `futures` (index, future) come as each finishes."""

    def __init__(self, ready: list, futures: list):
        self.ready = ready
        self.futures = futures


def asample_batch(state: ServerState, body: dict) -> SampleBatch:
    """Evolver's extension (evolver_features.sample_batch): many asample bodies in one call, each sampled exactly as
    its own asample would be (its own seed, its own future), the answers streamed back one JSON line each as they finish,
    {"index", "result"} or {"index", "error", "category"} (it failed), or {"index", "status", "detail"} (refused: the
    4xx its asample would get). One HTTP exchange for a rollout batch's step instead of one per rollout: each exchange
    costs both processes a few hundred microseconds of CPU, more than a one-token sample's share of a batched step."""
    requests = field(body, "requests", list)
    if not 1 <= len(requests) <= MAX_SAMPLE_BATCH:
        raise HttpError(422, f"requests must hold 1..{MAX_SAMPLE_BATCH} asample bodies, got {len(requests)}")
    ready, futures = [], []
    for index, request in enumerate(requests):
        try:
            if not isinstance(request, dict):
                raise HttpError(422, f"requests[{index}] must be a JSON object")
            answer = asample(state, request)
        except HttpError as error:
            ready.append({"index": index, "status": error.status, "detail": error.detail})
            continue
        futures.append((index, state.futures.get(answer["request_id"])))
    return SampleBatch(ready, futures)


def sample_line(index: int, future) -> dict:
    """A finished sample future as asample_batch's line."""
    if future.error is not None:
        return {"index": index, **future.error}
    return {"index": index, "result": future.result}


def samplers(state: ServerState, sampler_id: str) -> dict:
    session = state.sampling_sessions.get(sampler_id)
    if session is None:
        raise HttpError(404, "unknown sampler id")
    return {"sampler_id": sampler_id, "base_model": state.service.base_model_name, "model_path": session["model_path"]}


# ----- futures ---------------------------------------------------------------------------------------------------------


def retrieve_future(state: ServerState, body: dict, accept_proto: bool = False):
    """The future's answer; with accept_proto (the SDK's Accept: application/x-protobuf), a sample or forward/
    forward_backward result as protobuf bytes. try_again and failures stay JSON: the SDK reads them as JSON."""
    request_id = field(body, "request_id", str)
    future = state.futures.get(request_id)
    if future is None:
        raise HttpError(404, "Future not found")
    # long-poll: the SDK re-polls at once after try_again, so holding the request here is what paces it
    if not future.done.wait(state.long_poll_seconds):
        return {"type": "try_again", "request_id": request_id, "queue_state": "active"}
    return future_answer(future, accept_proto)


def future_answer(future, accept_proto: bool):
    """A finished future as retrieve_future answers it: the failure, or the result (protobuf bytes where asked)."""
    if future.error is not None:
        return future.error
    if accept_proto and future.kind in wire.WRITERS:
        return wire.WRITERS[future.kind](future.result)
    return future.result


POST = {
    "client/config": client_config,
    "create_session": create_session,
    "session_heartbeat": session_heartbeat,
    "telemetry": lambda state, body: {"status": "accepted"},
    "get_server_capabilities": capabilities,
    "create_model": create_model,
    "get_info": get_info,
    "unload_model": unload_model,
    "forward_backward": forward_backward,
    "forward": forward,
    "optim_step": optim_step,
    "save_weights": save_weights,
    "load_weights": load_weights,
    "save_weights_for_sampler": save_weights_for_sampler,
    "weights_info": weights_info,
    "create_sampling_session": create_sampling_session,
    "asample": asample,
    "asample_batch": asample_batch,
    "retrieve_future": retrieve_future,
}

GET = {
    "healthz": lambda state: {"status": "ok"},
    "get_server_capabilities": capabilities,
}
