"""The Tinker training protocol over HTTP (JSON, and protobuf where the SDK uses it), on top of service.py: this file holds the HTTP plumbing,
endpoints.py what each endpoint does, state.py the protocol's state, protocol.py how request bodies are read.

  python3 -m trainer.server --base-model DIR [--host 127.0.0.1] [--port 8000] [--lora-rank 32] [--device auto|cpu|cuda]
                            [--checkpoint-dir D] [--micro-batch-tokens 2048] [--long-poll-seconds 25]
                            [--sampling batched|unbatched]

Protocol reference: shared/specs/tinker-api.md. What this server does, in its terms:
- Every path is under /api/v1/. Slow calls (create_model, forward_backward, forward, optim_step, save_weights,
  load_weights, save_weights_for_sampler, asample, unload_model) answer at once with {request_id} and run on a worker
  thread: one per model, so a model's requests run one at a time in arrival order. Sample requests go to the
  continuous batcher (batching.py), where every sequence in flight shares each forward step (--sampling unbatched:
  one request at a time instead).
- retrieve_future long-polls, then answers {"type": "try_again"}; a failed request answers {error, category}
  (category "user" for a bad request the checks could not see up front, "server" otherwise).
- Evolver's client sends `Prefer: wait=N` (RFC 7240) with a slow call: if the work is done within N seconds (at most
  the long-poll time), the answer is what retrieve_future would answer, with `Preference-Applied: wait`; otherwise the
  usual {request_id}. One round trip per sample instead of two; a client that does not ask sees no change.
- A malformed or invalid request gets a 4xx at once with {"detail": "..."}: 400 bad JSON or Content-Length, 404 an
  unknown path or id, 405 a method the path does not take (with Allow), 409 a seq_id reused with another body or an
  existing checkpoint name, 413 a body over 1 GiB, 415 a protobuf
  body where only JSON is read, 422 a field with a wrong value. Never a 5xx for a bad request.
- asample_batch (Evolver's extension, evolver_features.sample_batch): {"requests": [asample body, ...]} in one exchange,
  each sampled as its own asample would be; the answer is chunked newline-delimited JSON, a line per request as it
  finishes ({index, result}, {index, error, category}, or {index, status, detail} for a request refused at once).
  Evolver's client sends the sample calls of one event-loop turn this way: a rollout batch's step in one exchange
  instead of one per rollout (endpoints.asample_batch says why).
- get_server_capabilities adds `evolver_features` (loss_fns, reference_logprobs, entropy_bonus): what a client may
  ask of evolver_ppo here; KL reference logprobs come from the frozen base model when a request brings none.
- A (model_id, seq_id) seen before with the same body returns the first request_id (a safe retry), as SkyRL does.
- Protobuf (wire.py; messages in proto/tinker_public.proto), as the SDK uses it: forward_backward takes a
  ForwardBackwardRequest with Content-Type application/x-protobuf (forward_only = a forward; SDK 0.25 sends every
  forward and forward_backward so, earlier ones when client/config says proto_write_fwdbwd and fwd_via_fwdbwd, which it
  does); retrieve_future answers a sample or forward/forward_backward result as SampleResponse/ForwardBackwardOutput
  bytes when the request Accepts application/x-protobuf. Any other path refuses a protobuf body with 415. JSON works
  for every call as before. client/config says proto_compress_fwdbwd: false because zstd is not in Python's standard
  library before 3.14 and the trainer takes no package beyond torch and numpy; a zstd body gets 415 naming this.
- client/config also says use_pyqwest_transport: false: SDK 0.25 otherwise sends everything through pyqwest, a compiled
  HTTP client that could not be installed where the SDK was checked against this server (docs/training.md); with
  false every SDK uses httpx's own transport, the one that check ran over.
- Not served: image chunks, stop strings (send token ids), top-k prompt logprobs, auth.
"""
import argparse
import json
import os
import queue
import signal
import sys
import tempfile
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import endpoints, wire
from .device import DEVICES, detect_device, openblas_core
from .protocol import HttpError
from .service import TrainerService
from .state import ServerState

MAX_BODY_BYTES = 1 << 30


def prefer_wait(header):
    """Seconds of a `Prefer: wait=N` header (RFC 7240), or None."""
    for preference in (header or "").split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "wait" and value.strip().isdigit():
            return int(value.strip())
    return None


class TinkerServer(ThreadingHTTPServer):
    """HTTP only; the protocol's state is `state` (state.py)."""

    daemon_threads = True
    # socketserver's default backlog is 5: 64 clients connecting at once would see SYNs dropped and retried after
    # 1 s, 3 s, ... (a rollout batch's worth of requests then waits seconds for nothing)
    request_queue_size = 1024

    def __init__(self, address, state: ServerState, verbose: bool = False):
        self.state = state
        self.verbose = verbose
        self.clients_gone = 0  # connections the client closed before its answer was written (an aborted call)
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        # a client that aborts a call (a timeout, a cancelled rollout) closes its connection; writing the answer then
        # fails, which is the client's choice, not a fault here: no traceback
        if isinstance(sys.exc_info()[1], ConnectionError):
            self.clients_gone += 1
            if self.verbose:
                print(f"client {client_address[0]}:{client_address[1]} closed its connection before its answer", file=sys.stderr)
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; Nagle would hold the second ~40 ms
    server: TinkerServer

    def do_GET(self):
        def handle(path):
            if path.startswith("samplers/"):
                return endpoints.samplers(self.server.state, path[len("samplers/") :])
            if path not in endpoints.GET:
                raise self.unknown(path, "GET")
            return endpoints.GET[path](self.server.state)

        self.respond(handle)

    def do_POST(self):
        def handle(path):
            if path not in endpoints.POST:
                raise self.unknown(path, "POST")
            state = self.server.state
            if (self.headers.get("Content-Type") or "").split(";")[0].strip() == wire.CONTENT_TYPE:
                if path != "forward_backward":
                    raise HttpError(415, f"/api/v1/{path} takes JSON; only forward_backward also takes {wire.CONTENT_TYPE}")
                return self.maybe_wait(endpoints.forward_backward_proto(state, self.proto_body()))
            body = self.json_body()
            if path == "retrieve_future":
                return endpoints.retrieve_future(state, body, accept_proto=self.accepts_proto())
            return self.maybe_wait(endpoints.POST[path](state, body))

        self.respond(handle)

    def __getattr__(self, name):
        # any other method (PUT, DELETE, HEAD, or a made-up one) on a known path is 405, on an unknown one 404; the
        # base class would answer 501 Not Implemented
        if name.startswith("do_"):
            return self.do_other
        raise AttributeError(name)

    def do_other(self):
        def refuse(path):
            raise self.unknown(path, self.command)

        self.respond(refuse)

    def accepts_proto(self) -> bool:
        return wire.CONTENT_TYPE in (self.headers.get("Accept") or "")

    def maybe_wait(self, answer):
        """A slow call's {request_id} answer, or, when the client sent `Prefer: wait=N` (RFC 7240) and the work is done
        within N seconds (at most the long-poll time), what retrieve_future would answer, marked Preference-Applied:
        one round trip instead of two for a short call (a rollout's sample), while a client that does not ask (the SDK)
        sees the protocol unchanged."""
        seconds = prefer_wait(self.headers.get("Prefer"))
        if seconds is None or not isinstance(answer, dict) or answer.get("status") != "pending":
            return answer
        future = self.server.state.futures.get(answer["request_id"])
        if future is None or not future.done.wait(min(seconds, self.server.state.long_poll_seconds)):
            return answer
        self.applied = {"Preference-Applied": "wait"}
        return endpoints.future_answer(future, self.accepts_proto())

    @staticmethod
    def unknown(path: str, method: str) -> HttpError:
        allowed = [m for m, table in (("GET", endpoints.GET), ("POST", endpoints.POST)) if path in table or (m == "GET" and path.startswith("samplers/"))]
        if allowed:
            return HttpError(405, f"{method} is not allowed on /api/v1/{path} (allowed: {', '.join(allowed)})", {"Allow": ", ".join(allowed)})
        return HttpError(404, f"unknown endpoint {method} /api/v1/{path}")

    def raw_body(self) -> bytes:
        raw_length = self.headers.get("Content-Length") or "0"
        if not raw_length.isdigit():
            raise HttpError(400, f"bad Content-Length {raw_length!r}")
        length = int(raw_length)
        if length > MAX_BODY_BYTES:
            raise HttpError(413, f"the body has {length} bytes; at most {MAX_BODY_BYTES}")
        return self.rfile.read(length) if length else b""

    def proto_body(self) -> bytes:
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding != "identity":
            raise HttpError(415, f"Content-Encoding {encoding} is not read here (client/config says proto_compress_fwdbwd: false)")
        return self.raw_body()

    def json_body(self) -> dict:
        raw = self.raw_body() or b"{}"
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise HttpError(400, f"the body is not JSON: {error}") from None
        if not isinstance(body, dict):
            raise HttpError(400, "the body must be a JSON object")
        return body

    def respond(self, handle):
        status, payload, headers = 200, None, {}
        self.applied = {}
        path = self.path.split("?", 1)[0]
        try:
            if not path.startswith("/api/v1/"):
                raise HttpError(404, f"unknown path {path}")
            payload = handle(path[len("/api/v1/") :])
        except HttpError as error:
            status, payload, headers = error.status, {"detail": error.detail}, error.headers
        except Exception as error:  # noqa: BLE001 - answer 500 rather than drop the connection
            traceback.print_exc(file=sys.stderr)
            status, payload = 500, {"detail": f"internal error: {type(error).__name__}: {error}"}
        if isinstance(payload, endpoints.SampleBatch):
            return self.stream_samples(payload)
        # a result asked for as protobuf comes as bytes (endpoints.retrieve_future); everything else is JSON
        binary = isinstance(payload, bytes)
        data = payload if binary else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", wire.CONTENT_TYPE if binary else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in {**headers, **self.applied}.items():
            self.send_header(name, value)
        if status >= 400:
            # a refused request's body may be unread: the connection cannot carry another request
            self.send_header("Connection", "close")
            self.close_connection = True
        self.body = data if self.command != "HEAD" else b""
        self.end_headers()

    def stream_samples(self, batch: "endpoints.SampleBatch"):
        """asample_batch's answer, chunked: a JSON line per request as soon as it is known, the lines that are ready
        together in one write (a batched step finishes many samples at once)."""
        finished: "queue.SimpleQueue" = queue.SimpleQueue()
        for index, future in batch.futures:
            future.on_done(lambda future, index=index: finished.put((index, future)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.body = b""
        self.end_headers()
        lines = [json.dumps(line) for line in batch.ready]
        left = len(batch.futures)
        while True:
            if lines:
                data = ("\n".join(lines) + "\n").encode("utf-8")
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                lines = []
            if left == 0:
                break
            item = finished.get()
            while True:
                lines.append(json.dumps(endpoints.sample_line(*item)))
                left -= 1
                try:
                    item = finished.get_nowait()
                except queue.Empty:
                    break
        self.wfile.write(b"0\r\n\r\n")

    def flush_headers(self):
        # the head and the body in one write: each socket write gives up the GIL and waits to take it back, and with
        # 64 samples in flight the batcher holds it most of the time
        self.wfile.write(b"".join(self._headers_buffer) + getattr(self, "body", b""))
        self._headers_buffer = []
        self.body = b""

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)


def stop_on_sigterm():
    """SIGTERM ends serve_forever as Ctrl-C would, once. The launcher closes our stdin and sends SIGTERM, and the stdin
    watcher sends one more when it sees the pipe close: a second KeyboardInterrupt landing in server_close() or in the
    interpreter's shutdown printed a traceback at the end of a run that had gone well."""
    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m trainer.server", description="Evolver's local trainer (Tinker protocol).")
    parser.add_argument("--base-model", required=True, help="HF model folder: config.json + model.safetensors (or shards)")
    parser.add_argument("--model-name", default=None, help="name reported to clients (default: the folder's name)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--lora-rank", type=int, default=32, help="rank when create_model gives none; 0 = full fine-tuning")
    parser.add_argument("--device", default="auto", choices=list(DEVICES), help="auto: CUDA when torch sees a GPU (bfloat16 where supported), else the CPU")
    parser.add_argument("--checkpoint-dir", default=None, help="where checkpoints live (default: a fresh temporary folder)")
    parser.add_argument("--micro-batch-tokens", type=int, default=2048)
    parser.add_argument("--long-poll-seconds", type=float, default=25.0)
    parser.add_argument("--sampling", default="batched", choices=["batched", "unbatched"],
                        help="batched: concurrent sample requests share forward steps; unbatched: one request at a time")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--exit-with-stdin", action="store_true", help="shut down when stdin closes (the launcher holds it open)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    checkpoint_dir = args.checkpoint_dir or tempfile.mkdtemp(prefix="evolver-trainer-")
    try:
        device, dtype = detect_device(args.device)
    except ValueError as error:
        parser.error(str(error))
    try:
        service = TrainerService(args.base_model, checkpoint_dir, device, args.lora_rank, args.micro_batch_tokens, args.model_name, dtype)
    except (OSError, ValueError) as error:  # a missing or unreadable config.json / safetensors: the folder is the problem
        parser.error(f"--base-model {args.base_model}: {error}")
    state = ServerState(service, args.long_poll_seconds, args.threads, batched_sampling=args.sampling == "batched")
    server = TinkerServer((args.host, args.port), state, args.verbose)
    host, port = server.server_address[:2]
    # one machine-readable line on stdout: the launcher reads the port from it
    print(json.dumps({"event": "listening", "host": host, "port": port, "base_model": service.base_model_name,
                      "checkpoint_dir": service.store.root, "device": device, "dtype": str(dtype).replace("torch.", ""),
                      "blas": openblas_core()}), flush=True)

    stop_on_sigterm()
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
