"""The protocol server's state, apart from HTTP: futures and the workers that complete them, sessions, which model ids
exist (a model is known from its create_model on, before its worker has built it), the seq ids seen, and the sampler.
endpoints.py reads and changes it; server.py owns one and maps HTTP onto endpoints.py. Neither imports the other's
module for it, so the three files import in one direction: server -> endpoints -> state."""
import hashlib
import json
import secrets
import threading
from typing import Callable, Dict, Optional

from .batching import ContinuousBatcher, SampleRequest
from .futures import Future, FutureTable, Worker, failure
from .lora import LoraConfig
from .protocol import HttpError, field
from .service import TrainerService


class ServerState:
    def __init__(self, service: TrainerService, long_poll_seconds: float = 25.0, threads: int = 0, batched_sampling: bool = True):
        self.service = service
        self.threads = threads
        self.long_poll_seconds = long_poll_seconds
        self.futures = FutureTable()
        self.workers: Dict[str, Worker] = {}
        self.known_models: Dict[str, LoraConfig] = {}
        self.seen_seq_ids: Dict[tuple, tuple] = {}  # (model_id, seq_id) -> (body hash, request_id)
        self.sessions: Dict[str, dict] = {}
        self.sampling_sessions: Dict[str, dict] = {}
        self.lock = threading.Lock()
        # concurrent sample requests share forward steps (batching.py); without it they run one at a time, each with
        # its own prefill and decode (sampler.sample), as a reference and for comparison
        self.batcher: Optional[ContinuousBatcher] = ContinuousBatcher(threads=threads) if batched_sampling else None

    def _dedup(self, model_id: Optional[str], seq_id, body) -> tuple:
        """(answer of the first request with this (model_id, seq_id), or None; digest of this body)."""
        if model_id is None or seq_id is None:
            return None, None
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        seen = self.seen_seq_ids.get((model_id, seq_id))
        if seen is None:
            return None, digest
        if seen[0] != digest:
            raise HttpError(409, f"seq_id {seq_id} of model {model_id} was already used for another request")
        return {"request_id": seen[1], "future_id": seen[1], "status": "pending", "model_id": model_id}, digest

    def submit(self, worker_key: str, job: Callable[[], dict], model_id: Optional[str] = None, seq_id=None, body=None,
               kind: Optional[str] = None) -> dict:
        """Queues `job` on the worker `worker_key` (a model id, or "sampler") and answers with its future. A repeated
        (model_id, seq_id) with the same body gets the first future back: a client's retry cannot run a step twice."""
        with self.lock:
            first, digest = self._dedup(model_id, seq_id, body)
            if first is not None:
                return first
            future = self.futures.create(kind)
            if digest is not None:
                self.seen_seq_ids[(model_id, seq_id)] = (digest, future.request_id)
            worker = self.workers.get(worker_key)
            if worker is None:
                worker = self.workers[worker_key] = Worker(f"worker-{worker_key}", self.threads)
            worker.jobs.put((future, job))
        return {"request_id": future.request_id, "future_id": future.request_id, "status": "pending", "model_id": model_id}

    def submit_sample(self, prepare) -> dict:
        """A sample request: to the batcher when there is one, else to the sampler worker, one at a time."""
        if self.batcher is None:
            def job():
                prepared = prepare()
                return self.service.sample_unbatched(prepared)
            return self.submit("sampler", job, kind="sample")
        future: Future = self.futures.create("sample")

        def finish(result, error):
            if error is not None:
                future.error = failure(error)
            else:
                future.result = result
            future.finish()

        self.batcher.submit(SampleRequest(prepare, finish))
        return {"request_id": future.request_id, "future_id": future.request_id, "status": "pending", "model_id": None}

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
