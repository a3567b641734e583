"""The Tinker training protocol over HTTP (JSON bodies only), on top of service.py: this file holds the server's state
and the HTTP plumbing, endpoints.py what each endpoint does, protocol.py how request bodies are read.

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
import secrets
import signal
import sys
import tempfile
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, Optional

from . import endpoints
from .futures import FutureTable, Worker
from .lora import LoraConfig
from .protocol import HttpError, field
from .service import TrainerService


class TinkerServer(ThreadingHTTPServer):
    """The protocol's state: futures, workers, sessions, and which model ids exist (a model is known from its
    create_model on, before its worker has built it)."""

    daemon_threads = True

    def __init__(self, address, service: TrainerService, long_poll_seconds: float = 25.0, verbose: bool = False, threads: int = 0):
        self.service = service
        self.threads = threads
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
        """Queues `job` on the worker `worker_key` (a model id, or "sampler") and answers with its future. A repeated
        (model_id, seq_id) with the same body gets the first future back: a client's retry cannot run a step twice."""
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
                worker = self.workers[worker_key] = Worker(f"worker-{worker_key}", self.threads)
            worker.jobs.put((future, job))
        return {"request_id": future.request_id, "future_id": future.request_id, "status": "pending", "model_id": model_id}

    def require_model(self, body: dict) -> str:
        model_id = field(body, "model_id", str)
        with self.lock:
            if model_id not in self.known_models:
                raise HttpError(404, f"unknown model_id '{model_id}'")
        return model_id

    def new_sampling_session(self, model_path: Optional[str]) -> str:
        session_id = f"sampling_{secrets.token_hex(4)}"
        with self.lock:
            self.sampling_sessions[session_id] = {"model_path": model_path}
        return session_id


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; Nagle would hold the second ~40 ms
    server: TinkerServer

    def do_GET(self):
        def handle(path):
            if path.startswith("samplers/"):
                return endpoints.samplers(self.server, path[len("samplers/") :])
            if path not in endpoints.GET:
                raise HttpError(404, f"unknown endpoint GET /api/v1/{path}")
            return endpoints.GET[path](self.server)

        self.respond(handle)

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
            if path not in endpoints.POST:
                raise HttpError(404, f"unknown endpoint POST /api/v1/{path}")
            return endpoints.POST[path](self.server, body)

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

    checkpoint_dir = args.checkpoint_dir or tempfile.mkdtemp(prefix="evolver-trainer-")
    service = TrainerService(args.base_model, checkpoint_dir, args.device, args.lora_rank, args.micro_batch_tokens, args.model_name)
    server = TinkerServer((args.host, args.port), service, args.long_poll_seconds, args.verbose, args.threads)
    host, port = server.server_address[:2]
    # one machine-readable line on stdout: the launcher reads the port from it
    print(json.dumps({"event": "listening", "host": host, "port": port, "base_model": service.base_model_name,
                      "checkpoint_dir": service.store.root}), flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if args.exit_with_stdin:
        # when the launching process dies, however it dies, its end of the pipe closes and we follow it
        # os.read on the raw descriptor: a thread blocked in sys.stdin's buffered reader holds its lock, and
        # Python aborts at exit ("could not acquire lock ... <stdin>") when a daemon thread still holds it.
        def watch_stdin():
            while os.read(0, 65536):
                pass
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
