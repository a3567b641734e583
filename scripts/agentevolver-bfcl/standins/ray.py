"""An in-process stand-in for the part of Ray that AgentEvolver's env_service.py uses (Ray is not packaged for
Debian and PyPI cannot be reached here): ray.init, ray.is_initialized, @ray.remote on a class, actor.method.remote()
awaited from asyncio, and ray.kill. As with Ray, each actor lives in its own process (forked), so instances never
share module state (BFCL's backends keep their objects in module globals)."""
import asyncio
import multiprocessing
import threading

_context = multiprocessing.get_context("fork")
_initialized = False


def init(*args, **kwargs):
    global _initialized
    _initialized = True


def is_initialized():
    return _initialized


def _serve(cls, args, kwargs, connection):
    try:
        instance, failure = cls(*args, **kwargs), None
    except Exception as error:  # raised at the first call, as Ray does
        instance, failure = None, error
    while True:
        message = connection.recv()
        if message is None:
            return
        name, call_args, call_kwargs = message
        try:
            if failure is not None:
                raise failure
            connection.send((True, getattr(instance, name)(*call_args, **call_kwargs)))
        except Exception as error:
            try:
                connection.send((False, error))
            except Exception:
                connection.send((False, RuntimeError(repr(error))))


class _Method:
    def __init__(self, actor, name):
        self._actor, self._name = actor, name

    def remote(self, *args, **kwargs):
        return asyncio.get_running_loop().run_in_executor(None, self._actor._call, self._name, args, kwargs)


class _Actor:
    def __init__(self, cls, args, kwargs):
        self._connection, child = _context.Pipe()
        self._process = _context.Process(target=_serve, args=(cls, args, kwargs, child), daemon=True)
        self._process.start()
        self._lock = threading.Lock()

    def _call(self, name, args, kwargs):
        with self._lock:
            self._connection.send((name, args, kwargs))
            ok, value = self._connection.recv()
        if ok:
            return value
        raise value

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self, name)


class _ActorClass:
    def __init__(self, cls):
        self._cls = cls

    def remote(self, *args, **kwargs):
        return _Actor(self._cls, args, kwargs)


def remote(cls):
    return _ActorClass(cls)


def kill(actor):
    try:
        with actor._lock:
            actor._connection.send(None)
    except Exception:
        pass
    actor._process.join(timeout=5)
    if actor._process.is_alive():
        actor._process.kill()
