"""The Tinker training protocol over HTTP (JSON bodies only), on top of service.py.

  python3 -m trainer.server --base-model DIR [--host 127.0.0.1] [--port 8000] [--lora-rank 32] [--device cpu|cuda]
                            [--checkpoint-dir D] [--micro-batch-tokens 2048] [--long-poll-seconds 25]

Protocol reference: shared/specs/tinker-api.md. What this server does, in its terms:
- Every path is under /api/v1/. Slow calls (create_model, forward_backward, forward, optim_step, save_weights,
  load_weights, save_weights_for_sampler, asample, unload_model) answer at once with {request_id} and run on a worker
  thread: one per model, so a model's requests run one at a time in arrival order; sampling has its own worker.
- retrieve_future long-polls, then answers {"type": "try_again"}; a failed request answers {error, category}
  (category "user" for a bad request the checks could not see up front, "server" otherwise).
- A malformed or invalid request gets a 4xx at once with {"detail": "..."}: 400 bad JSON, 404 unknown id,
  409 a seq_id reused with another body or an existing checkpoint name, 422 a field with a wrong value.
- A (model_id, seq_id) seen before with the same body returns the first request_id (a safe retry), as SkyRL does.
- Not served: protobuf bodies (SDK >= 0.25 needs them for forward_backward and sample results; SDK <= 0.24 and
  Evolver's TypeScript client speak JSON), image chunks, stop strings (send token ids), top-k prompt logprobs, auth.
"""
import argparse
import hashlib
import json
import os
import queue
import secrets
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional

from .checkpoints import CheckpointError, CheckpointPath
from .lora import ALL_TARGETS, LoraConfig
from .service import TrainerService, default_lora
from .train_step import AdamParams, Datum, UserError, validate_datums
from .sampler import SamplingParams


MLP_TARGETS = ("gate_proj", "up_proj", "down_proj")


class HttpError(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


# ----- reading request bodies ------------------------------------------------------------------------------------------


def field(body: dict, name: str, kind, required: bool = True, default=None):
    if name not in body or body[name] is None:
        if required:
            raise HttpError(422, f"field '{name}' is required")
        return default
    value = body[name]
    ok = isinstance(value, kind) and not (kind in (int, float, (int, float)) and isinstance(value, bool))
    if not ok:
        raise HttpError(422, f"field '{name}' has the wrong type ({type(value).__name__})")
    return value


def number_list(value, where: str) -> List[float]:
    """TensorData ({data, dtype?, shape?}) or a bare list -> flat list of numbers (shape and dtype are not needed)."""
    data = value.get("data") if isinstance(value, dict) else value
    if not isinstance(data, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in data):
        raise HttpError(422, f"{where} must be TensorData {{data: [numbers]}}")
    if isinstance(value, dict) and ("sparse_crow_indices" in value or "sparse_col_indices" in value):
        raise HttpError(422, f"{where}: sparse tensors are not supported")
    return data


def model_input_tokens(value, where: str) -> List[int]:
    chunks = field({"x": value}, "x", dict).get("chunks")
    if not isinstance(chunks, list):
        raise HttpError(422, f"{where} must be a ModelInput {{chunks: [...]}}")
    tokens: List[int] = []
    for chunk in chunks:
        kind = chunk.get("type", "encoded_text" if "tokens" in chunk else None) if isinstance(chunk, dict) else None
        if kind != "encoded_text":
            raise HttpError(422, f"{where}: only encoded_text chunks are supported, got {kind!r}")
        chunk_tokens = chunk.get("tokens")
        if not isinstance(chunk_tokens, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in chunk_tokens):
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


# ----- futures and workers ---------------------------------------------------------------------------------------------


class Future:
    def __init__(self, request_id: str):
        self.request_id = request_id
        self.done = threading.Event()
        self.result: Optional[dict] = None
        self.error: Optional[dict] = None


class FutureTable:
    """Request ids are decimal strings of a counter, as SkyRL's. The oldest finished futures are forgotten past `keep`."""

    def __init__(self, keep: int = 10000):
        self.futures: "OrderedDict[str, Future]" = OrderedDict()
        self.counter = 0
        self.keep = keep
        self.lock = threading.Lock()

    def create(self) -> Future:
        with self.lock:
            self.counter += 1
            future = Future(str(self.counter))
            self.futures[future.request_id] = future
            while len(self.futures) > self.keep and next(iter(self.futures.values())).done.is_set():
                self.futures.popitem(last=False)
            return future

    def get(self, request_id: str) -> Optional[Future]:
        with self.lock:
            return self.futures.get(request_id)


class Worker(threading.Thread):
    """Runs jobs one at a time, in the order they were queued."""

    def __init__(self, name: str):
        super().__init__(name=name, daemon=True)
        self.jobs: "queue.Queue" = queue.Queue()
        self.start()

    def run(self):
        while True:
            future, job = self.jobs.get()
            try:
                future.result = job()
            except (UserError, CheckpointError, KeyError) as error:
                future.error = {"error": f"{type(error).__name__}: {error}", "category": "user"}
            except Exception as error:  # noqa: BLE001 - a failed request must not kill the worker
                traceback.print_exc(file=sys.stderr)
                future.error = {"error": f"{type(error).__name__}: {error}", "category": "server"}
            future.done.set()


# ----- the server ------------------------------------------------------------------------------------------------------


class TinkerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, service: TrainerService, long_poll_seconds: float = 25.0, verbose: bool = False):
        self.service = service
        self.long_poll_seconds = long_poll_seconds
        self.verbose = verbose
        self.futures = FutureTable()
        self.workers: Dict[str, Worker] = {}
        self.known_models: Dict[str, LoraConfig] = {}
        self.seen_seq_ids: Dict[tuple, tuple] = {}  # (model_id, seq_id) -> (body hash, request_id)
        self.sessions: Dict[str, dict] = {}
        self.sampling_sessions: Dict[str, dict] = {}
        self.lock = threading.Lock()
        super().__init__(address, Handler)

    def submit(self, worker_key: str, job: Callable[[], dict], model_id: Optional[str] = None, seq_id=None, body=None) -> dict:
        with self.lock:
            if model_id is not None and seq_id is not None:
                digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
                seen = self.seen_seq_ids.get((model_id, seq_id))
                if seen is not None:
                    if seen[0] != digest:
                        raise HttpError(409, f"seq_id {seq_id} of model {model_id} was already used for another request")
                    return {"request_id": seen[1], "future_id": seen[1], "status": "pending", "model_id": model_id}
            future = self.futures.create()
            if model_id is not None and seq_id is not None:
                self.seen_seq_ids[(model_id, seq_id)] = (digest, future.request_id)
            worker = self.workers.get(worker_key)
            if worker is None:
                worker = self.workers[worker_key] = Worker(f"worker-{worker_key}")
            worker.jobs.put((future, job))
        return {"request_id": future.request_id, "future_id": future.request_id, "status": "pending", "model_id": model_id}

    def require_model(self, body: dict) -> str:
        model_id = field(body, "model_id", str)
        with self.lock:
            if model_id not in self.known_models:
                raise HttpError(404, f"unknown model_id '{model_id}'")
        return model_id


def route_post(server: TinkerServer, path: str, body: dict) -> dict:
    service = server.service

    if path == "client/config":
        return {"pjwt_auth_enabled": False, "proto_compress_fwdbwd": False, "proto_write_fwdbwd": False, "fwd_via_fwdbwd": False,
                "parallel_fwdbwd_chunks": False, "create_model_via_load_weights": False}
    if path == "create_session":
        session_id = f"session_{secrets.token_hex(4)}"
        with server.lock:
            server.sessions[session_id] = {"tags": body.get("tags", [])}
        return {"type": "create_session", "session_id": session_id}
    if path == "session_heartbeat":
        if field(body, "session_id", str) not in server.sessions:
            raise HttpError(404, "unknown session_id")
        return {"type": "session_heartbeat"}
    if path == "telemetry":
        return {"status": "accepted"}
    if path == "get_server_capabilities":
        return capabilities(service)

    if path == "create_model":
        base_model = field(body, "base_model", str, required=False)
        if not service.accepts_base_model(base_model):
            raise HttpError(422, f"this server serves only '{service.base_model_name}', not '{base_model}'")
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
        with server.lock:
            server.known_models[model_id] = lora

        def create():
            service.create_model(model_id, lora)
            return {"model_id": model_id, "base_model": service.base_model_name, "lora_config": {"rank": lora.rank, "seed": lora.seed}, "type": "create_model"}

        return server.submit(model_id, create, model_id)

    if path == "get_info":
        model_id = server.require_model(body)
        try:
            return service.info(model_id)
        except KeyError:
            raise HttpError(409, f"model {model_id} is still being created") from None

    if path == "unload_model":
        model_id = server.require_model(body)
        with server.lock:
            server.known_models.pop(model_id)

        def unload():
            service.unload_model(model_id)
            return {"model_id": model_id, "status": "unloaded", "type": "unload_model"}

        return server.submit(model_id, unload, model_id)

    if path in ("forward_backward", "forward"):
        model_id = server.require_model(body)
        payload = field(body, "forward_backward_input" if path == "forward_backward" else "forward_input", dict)
        datums = parse_datums(payload.get("data"), path)
        loss_fn = field(payload, "loss_fn", str)
        config = field(payload, "loss_fn_config", dict, required=False, default={})
        try:
            validate_datums(datums, loss_fn, config, service.config.vocab_size, service.config.max_position_embeddings)
        except UserError as error:
            raise HttpError(422, str(error)) from None
        backward = path == "forward_backward"

        def run():
            started = time.perf_counter()
            result = service.forward_backward(model_id, datums, loss_fn, config, backward)
            # the compute time, so a client can tell the protocol's own cost from the work (bench/trainer.ts)
            result["metrics"]["trainer_seconds:sum"] = time.perf_counter() - started
            # each per-datum output goes on the wire as TensorData
            result["loss_fn_outputs"] = [{name: {"data": values, "dtype": "float32", "shape": [len(values)]} for name, values in output.items()}
                                         for output in result["loss_fn_outputs"]]
            return result

        return server.submit(model_id, run, model_id, body.get("seq_id"), body)

    if path == "optim_step":
        model_id = server.require_model(body)
        params = adam_params(body)
        return server.submit(model_id, lambda: service.optim_step(model_id, params), model_id, body.get("seq_id"), body)

    if path == "save_weights":
        model_id = server.require_model(body)
        name = field(body, "path", str)
        overwrite = bool(body.get("overwrite", False))
        if not overwrite and service.store.exists(checkpoint_path(model_id, "weights", name)):
            raise HttpError(409, f"checkpoint '{name}' of {model_id} already exists")

        def save():
            return {"path": service.save_weights(model_id, name, overwrite), "type": "save_weights"}

        return server.submit(model_id, save, model_id, body.get("seq_id"), body)

    if path == "load_weights":
        model_id = server.require_model(body)
        tinker_path = field(body, "path", str)
        checkpoint_path_of(tinker_path)
        with_optimizer = bool(body.get("optimizer", False))

        def load():
            service.load_weights(model_id, tinker_path, with_optimizer)
            return {"path": tinker_path, "model_id": model_id, "type": "load_weights"}

        return server.submit(model_id, load, model_id, body.get("seq_id"), body)

    if path == "save_weights_for_sampler":
        model_id = server.require_model(body)
        name = field(body, "path", str, required=False)
        ephemeral = name is None
        if ephemeral:
            name = f"ephemeral_{secrets.token_hex(4)}"
        checkpoint_path(model_id, "sampler_weights", name)

        def save():
            saved = service.save_weights_for_sampler(model_id, name)
            session_id = new_sampling_session(server, saved)
            return {"path": None if ephemeral else saved, "sampling_session_id": session_id, "type": "save_weights_for_sampler"}

        return server.submit(model_id, save, model_id, body.get("seq_id"), body)

    if path == "create_sampling_session":
        model_path = field(body, "model_path", str, required=False)
        base_model = field(body, "base_model", str, required=False)
        if (model_path is None) == (base_model is None):
            raise HttpError(422, "give exactly one of model_path and base_model")
        if base_model is not None and not service.accepts_base_model(base_model):
            raise HttpError(422, f"this server serves only '{service.base_model_name}', not '{base_model}'")
        if model_path is not None:
            path_obj = checkpoint_path_of(model_path)
            if not service.store.exists(path_obj):
                raise HttpError(404, f"no checkpoint at {model_path}")
        return {"type": "create_sampling_session", "sampling_session_id": new_sampling_session(server, model_path)}

    if path == "asample":
        prompt = model_input_tokens(body.get("prompt"), "prompt")
        params = sampling_params(body)
        num_samples = field(body, "num_samples", int, required=False, default=1)
        if not 1 <= num_samples <= 1024:
            raise HttpError(422, f"num_samples must be in 1..1024, got {num_samples}")
        if body.get("topk_prompt_logprobs"):
            raise HttpError(422, "topk_prompt_logprobs is not supported")
        model_path = sampling_target(server, body)
        want_prompt_logprobs = bool(body.get("prompt_logprobs", False))
        job = lambda: service.sample(model_path, prompt, params, num_samples, want_prompt_logprobs)  # noqa: E731
        return server.submit("sampler", job)

    if path == "retrieve_future":
        return retrieve_future(server, field(body, "request_id", str))

    if path == "weights_info":
        meta = checkpoint_meta(service, field(body, "tinker_path", str))
        targets = meta["lora"]["targets"]
        return {"base_model": meta["base_model"], "is_lora": meta["lora"]["rank"] > 0, "lora_rank": meta["lora"]["rank"],
                "train_unembed": False, "train_mlp": any(t in MLP_TARGETS for t in targets),
                "train_attn": any(t not in MLP_TARGETS for t in targets)}

    raise HttpError(404, f"unknown endpoint POST /api/v1/{path}")


def route_get(server: TinkerServer, path: str) -> dict:
    if path == "healthz":
        return {"status": "ok"}
    if path == "get_server_capabilities":
        return capabilities(server.service)
    if path.startswith("samplers/"):
        session = server.sampling_sessions.get(path[len("samplers/") :])
        if session is None:
            raise HttpError(404, "unknown sampler id")
        return {"sampler_id": path[len("samplers/") :], "base_model": server.service.base_model_name, "model_path": session["model_path"]}
    raise HttpError(404, f"unknown endpoint GET /api/v1/{path}")


def capabilities(service: TrainerService) -> dict:
    return {"supported_models": [{"model_name": service.base_model_name, "max_context_length": service.config.max_position_embeddings}]}


def checkpoint_path(model_id: str, kind: str, name: str):
    return checkpoint_path_of(f"tinker://{model_id}/{kind}/{name}")


def checkpoint_path_of(tinker_path: str) -> CheckpointPath:
    try:
        return CheckpointPath.parse(tinker_path)
    except CheckpointError as error:
        raise HttpError(422, str(error)) from None


def checkpoint_meta(service: TrainerService, tinker_path: str) -> dict:
    try:
        return service.store.load_meta(checkpoint_path_of(tinker_path))
    except FileNotFoundError as error:
        raise HttpError(404, str(error)) from None


def new_sampling_session(server: TinkerServer, model_path: Optional[str]) -> str:
    session_id = f"sampling_{secrets.token_hex(4)}"
    with server.lock:
        server.sampling_sessions[session_id] = {"model_path": model_path}
    return session_id


def sampling_target(server: TinkerServer, body: dict) -> Optional[str]:
    """The checkpoint an asample reads: its sampling session's, else model_path, else the base model (None)."""
    session_id = field(body, "sampling_session_id", str, required=False)
    if session_id is not None:
        session = server.sampling_sessions.get(session_id)
        if session is None:
            raise HttpError(404, f"unknown sampling_session_id '{session_id}'")
        return session["model_path"]
    model_path = field(body, "model_path", str, required=False)
    if model_path is not None:
        if not server.service.store.exists(checkpoint_path_of(model_path)):
            raise HttpError(404, f"no checkpoint at {model_path}")
        return model_path
    base_model = field(body, "base_model", str, required=False)
    if not server.service.accepts_base_model(base_model):
        raise HttpError(422, f"this server serves only '{server.service.base_model_name}', not '{base_model}'")
    return None


def retrieve_future(server: TinkerServer, request_id: str) -> dict:
    future = server.futures.get(request_id)
    if future is None:
        raise HttpError(404, "Future not found")
    if not future.done.wait(server.long_poll_seconds):
        return {"type": "try_again", "request_id": request_id, "queue_state": "active"}
    return future.error if future.error is not None else future.result


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; Nagle would hold the second ~40 ms
    server: TinkerServer

    def do_GET(self):
        self.respond(lambda path: route_get(self.server, path))

    def do_POST(self):
        def handle(path):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise HttpError(400, f"the body is not JSON: {error}") from None
            if not isinstance(body, dict):
                raise HttpError(400, "the body must be a JSON object")
            return route_post(self.server, path, body)

        self.respond(handle)

    def respond(self, handle):
        status, payload = 200, None
        path = self.path.split("?", 1)[0]
        try:
            if not path.startswith("/api/v1/"):
                raise HttpError(404, f"unknown path {path}")
            payload = handle(path[len("/api/v1/") :])
        except HttpError as error:
            status, payload = error.status, {"detail": error.detail}
        except Exception as error:  # noqa: BLE001 - answer 500 rather than drop the connection
            traceback.print_exc(file=sys.stderr)
            status, payload = 500, {"detail": f"internal error: {type(error).__name__}: {error}"}
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m trainer.server", description="Evolver's local trainer (Tinker protocol).")
    parser.add_argument("--base-model", required=True, help="HF model folder: config.json + model.safetensors (or shards)")
    parser.add_argument("--model-name", default=None, help="name reported to clients (default: the folder's name)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--lora-rank", type=int, default=32, help="rank when create_model gives none; 0 = full fine-tuning")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--checkpoint-dir", default=None, help="where checkpoints live (default: a fresh temporary folder)")
    parser.add_argument("--micro-batch-tokens", type=int, default=2048)
    parser.add_argument("--long-poll-seconds", type=float, default=25.0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--exit-with-stdin", action="store_true", help="shut down when stdin closes (the launcher holds it open)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    checkpoint_dir = args.checkpoint_dir or tempfile.mkdtemp(prefix="evolver-trainer-")
    service = TrainerService(args.base_model, checkpoint_dir, args.device, args.lora_rank, args.micro_batch_tokens, args.model_name)
    server = TinkerServer((args.host, args.port), service, args.long_poll_seconds, args.verbose)
    host, port = server.server_address[:2]
    # one machine-readable line on stdout: the launcher reads the port from it
    print(json.dumps({"event": "listening", "host": host, "port": port, "base_model": service.base_model_name,
                      "checkpoint_dir": service.store.root}), flush=True)
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if args.exit_with_stdin:
        # when the launching process dies, however it dies, its end of the pipe closes and we follow it
        def watch_stdin():
            sys.stdin.buffer.read()
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
