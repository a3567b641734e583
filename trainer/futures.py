"""Futures of slow requests and the worker threads that complete them."""
import queue
import sys
import threading
import traceback
from collections import OrderedDict
from typing import Optional

import torch

from .checkpoints import CheckpointError
from .train_step import UserError


class Future:
    def __init__(self, request_id: str, kind: Optional[str] = None):
        self.request_id = request_id
        self.kind = kind  # "sample" or "forward_backward": a result an SDK may ask for as protobuf (wire.WRITERS)
        self.done = threading.Event()
        self.result: Optional[dict] = None
        self.error: Optional[dict] = None  # {error, category} as the protocol reports a failed request
        self._callbacks: list = []
        self._lock = threading.Lock()

    def finish(self) -> None:
        """Marks the future done (its result or error set) and calls what waits on it."""
        with self._lock:
            self.done.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def on_done(self, callback) -> None:
        """Calls `callback(future)` once the future is done: at once if it is, else from the thread that finishes it."""
        with self._lock:
            if not self.done.is_set():
                self._callbacks.append(callback)
                return
        callback(self)


class FutureTable:
    """Request ids are decimal strings of a counter, as SkyRL's. The oldest finished futures are forgotten past `keep`."""

    def __init__(self, keep: int = 10000):
        self.futures: "OrderedDict[str, Future]" = OrderedDict()
        self.counter = 0
        self.keep = keep
        self.lock = threading.Lock()

    def create(self, kind: Optional[str] = None) -> Future:
        with self.lock:
            self.counter += 1
            future = Future(str(self.counter), kind)
            self.futures[future.request_id] = future
            while len(self.futures) > self.keep and next(iter(self.futures.values())).done.is_set():
                self.futures.popitem(last=False)
            return future

    def get(self, request_id: str) -> Optional[Future]:
        with self.lock:
            return self.futures.get(request_id)


class Worker(threading.Thread):
    """Runs jobs one at a time, in the order they were queued; a job's exception fails its future, not the worker."""

    def __init__(self, name: str, threads: int = 0):
        super().__init__(name=name, daemon=True)
        self.jobs: "queue.Queue" = queue.Queue()
        self.threads = threads
        self.start()

    def run(self):
        if self.threads > 0:
            torch.set_num_threads(self.threads)  # OpenMP's thread count is per calling thread: set it where torch runs
        while True:
            future, job = self.jobs.get()
            try:
                future.result = job()
            except Exception as error:  # noqa: BLE001 - a failed request must not kill the worker
                future.error = failure(error)
            future.finish()


def failure(error: BaseException) -> dict:
    """A failed request as the protocol reports it: category "user" for a request that cannot be served as sent."""
    if isinstance(error, (UserError, CheckpointError, KeyError)):
        return {"error": f"{type(error).__name__}: {error}", "category": "user"}
    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    return {"error": f"{type(error).__name__}: {error}", "category": "server"}
