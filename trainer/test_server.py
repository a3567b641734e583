"""The Tinker protocol end to end: a real server on a free port in a thread, a tiny checkpoint, urllib as the client."""
import contextlib
import http.client
import io
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time
import tempfile
import threading
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from trainer.server import TinkerServer, stop_on_sigterm
from trainer.service import TrainerService
from trainer.state import ServerState
from trainer.tiny import write_tiny_checkpoint

SEQUENCE = list(range(10, 30))


def start_server(base_dir, checkpoint_dir, long_poll_seconds=5.0, batched_sampling=True):
    service = TrainerService(base_dir, checkpoint_dir, default_lora_rank=4, base_model_name="tiny")
    server = TinkerServer(("127.0.0.1", 0), ServerState(service, long_poll_seconds, batched_sampling=batched_sampling))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Client:
    def __init__(self, server):
        self.base = f"http://127.0.0.1:{server.server_address[1]}/api/v1/"

    def call(self, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, headers={"Content-Type": "application/json"},
                                         method="POST" if data is not None else "GET")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def ok(self, path, body=None):
        status, payload = self.call(path, body)
        assert status == 200, f"{path}: {status} {payload}"
        return payload

    def result(self, submitted):
        while True:
            payload = self.ok("retrieve_future", {"request_id": submitted["request_id"], "allow_metadata_only": False})
            if payload.get("type") != "try_again":
                return payload

    def run(self, path, body):
        result = self.result(self.ok(path, body))
        assert "error" not in result, f"{path} failed: {result}"
        return result

    def create_model(self, rank):
        return self.run("create_model", {"base_model": "tiny", "lora_config": {"rank": rank, "seed": 3}, "model_seq_id": 0})["model_id"]


def raw_request(server, method, path, body):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=60)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body is not None else {})
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}
    finally:
        connection.close()


def datum(sequence):
    return {"model_input": {"chunks": [{"type": "encoded_text", "tokens": sequence[:-1]}]},
            "loss_fn_inputs": {"target_tokens": {"data": sequence[1:], "dtype": "int64"}}}


def forward_backward(client, model_id, seq_id, loss_fn="cross_entropy", data=None, path="forward_backward"):
    key = "forward_backward_input" if path == "forward_backward" else "forward_input"
    body = {"model_id": model_id, "seq_id": seq_id, key: {"data": data or [datum(SEQUENCE)], "loss_fn": loss_fn, "loss_fn_config": None}}
    return client.run(path, body)


class TinyServerCase(unittest.TestCase):
    """One server on a tiny random checkpoint per test class (this file's tests and test_wire's)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.base_dir = os.path.join(cls.tmp.name, "tiny")
        cls.checkpoints = os.path.join(cls.tmp.name, "checkpoints")
        write_tiny_checkpoint(cls.base_dir, seed=0)
        cls.server = start_server(cls.base_dir, cls.checkpoints)
        cls.client = Client(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.tmp.cleanup()


class ServerTest(TinyServerCase):

    def test_handshake_endpoints(self):
        c = self.client
        self.assertEqual(c.ok("healthz"), {"status": "ok"})
        self.assertFalse(c.ok("client/config", {"sdk_version": "0.24.1"})["pjwt_auth_enabled"])
        session = c.ok("create_session", {"tags": [], "sdk_version": "x", "type": "create_session"})["session_id"]
        self.assertEqual(c.ok("session_heartbeat", {"session_id": session, "type": "session_heartbeat"}), {"type": "session_heartbeat"})
        self.assertEqual(c.ok("get_server_capabilities")["supported_models"][0]["model_name"], "tiny")

    def test_training_memorizes_a_sequence(self):
        c = self.client
        model_id = self.client.create_model(rank=0)
        info = c.ok("get_info", {"model_id": model_id, "type": "get_info"})
        self.assertEqual((info["model_data"]["model_name"], info["is_lora"]), ("tiny", False))
        losses = []
        for step in range(25):
            out = forward_backward(c, model_id, seq_id=2 * step + 1)
            losses.append(out["metrics"]["loss:sum"])
            self.assertEqual(len(out["loss_fn_outputs"][0]["logprobs"]["data"]), len(SEQUENCE) - 1)
            metrics = c.run("optim_step", {"model_id": model_id, "seq_id": 2 * step + 2, "adam_params": {"learning_rate": 1e-2}})["metrics"]
            self.assertGreater(metrics["grad_norm:mean"], 0)
        self.assertLess(losses[-1], 0.2 * losses[0])

    def test_sampler_checkpoint_sampling_and_forward_agree(self):
        c = self.client
        model_id = c.create_model(rank=4)
        forward_backward(c, model_id, 1)
        c.run("optim_step", {"model_id": model_id, "seq_id": 2, "adam_params": {"learning_rate": 1e-2}})
        saved = c.run("save_weights_for_sampler", {"model_id": model_id, "seq_id": 3, "path": "step1"})
        self.assertEqual(saved["path"], f"tinker://{model_id}/sampler_weights/step1")
        session = c.ok("create_sampling_session", {"session_id": "s", "sampling_session_seq_id": 0, "model_path": saved["path"]})
        request = {"prompt": {"chunks": [{"type": "encoded_text", "tokens": [1, 2, 3]}]}, "num_samples": 2,
                   "sampling_params": {"max_tokens": 6, "temperature": 1.0, "seed": 7}, "sampling_session_id": session["sampling_session_id"]}
        first = c.run("asample", request)
        self.assertEqual(first, c.run("asample", request))  # seeded: the same twice
        self.assertEqual(len(first["sequences"]), 2)
        # the sampler's logprobs are the model's: a forward of the trained weights gives the same numbers
        tokens = [1, 2, 3] + first["sequences"][0]["tokens"]
        out = forward_backward(c, model_id, 4, data=[datum(tokens)], path="forward")
        got = out["loss_fn_outputs"][0]["logprobs"]["data"][2:]
        for a, b in zip(got, first["sequences"][0]["logprobs"]):
            self.assertAlmostEqual(a, b, places=4)
        base = c.run("asample", {**request, "sampling_session_id": None, "base_model": "tiny"})
        self.assertNotEqual(base["sequences"][0]["logprobs"], first["sequences"][0]["logprobs"])

    def test_a_sampler_snapshot_keeps_its_weights_while_the_model_trains(self):
        """schedule.overlap samples the next iteration's rollouts from a sampler save while the same model trains: the
        sample must come from the saved weights, and must not wait for the model's training calls."""
        c = self.client
        for rank in (0, 4):  # full fine-tuning (the quick start) and LoRA
            with self.subTest(rank=rank):
                model_id = c.create_model(rank=rank)
                snapshot = c.run("save_weights_for_sampler", {"model_id": model_id, "seq_id": 1, "path": "before"})["path"]
                session = c.ok("create_sampling_session", {"session_id": f"overlap-{rank}", "sampling_session_seq_id": 0, "model_path": snapshot})
                request = {"prompt": {"chunks": [{"type": "encoded_text", "tokens": SEQUENCE[:6]}]}, "num_samples": 4,
                           "sampling_params": {"max_tokens": 8, "temperature": 1.0, "seed": 11}, "sampling_session_id": session["sampling_session_id"]}
                before = c.run("asample", request)
                # the model's worker held busy: its training calls queue behind this job
                gate = threading.Event()
                self.server.state.submit(model_id, lambda: {"held": gate.wait(30)})
                steps = []
                for step in range(4):
                    steps.append(c.ok("forward_backward", {"model_id": model_id, "seq_id": 10 + 2 * step, "forward_backward_input": {"data": [datum(SEQUENCE)], "loss_fn": "cross_entropy"}}))
                    steps.append(c.ok("optim_step", {"model_id": model_id, "seq_id": 11 + 2 * step, "adam_params": {"learning_rate": 5e-2}}))
                # the sample is answered while the model's worker is still held: sampling does not wait for training
                during = c.run("asample", request)
                self.assertFalse(gate.is_set())
                gate.set()
                for submitted in steps:
                    self.assertNotIn("error", c.result(submitted))
                after = c.run("asample", request)
                self.assertEqual(during, before)
                self.assertEqual(after, before, "the snapshot's samples changed once the model trained")
                # the training did move the weights: a new save samples differently
                trained = c.run("save_weights_for_sampler", {"model_id": model_id, "seq_id": 20, "path": "after"})["path"]
                moved = c.run("asample", {**request, "sampling_session_id": None, "model_path": trained})
                self.assertNotEqual(moved["sequences"][0]["logprobs"], before["sequences"][0]["logprobs"])

    def test_bad_requests_get_4xx_with_detail(self):
        c = self.client
        model_id = c.create_model(rank=4)
        fb = {"model_id": model_id, "forward_backward_input": {"data": [datum(SEQUENCE)], "loss_fn": "cross_entropy"}}
        cases = [
            (c.call("forward_backward", raw=b"{not json"), 400),
            (c.call("no_such_endpoint", {}), 404),
            (c.call("forward_backward", {**fb, "model_id": "model_nope"}), 404),
            (c.call("forward_backward", {**fb, "forward_backward_input": {"data": [datum(SEQUENCE)], "loss_fn": "dro"}}), 422),
            (c.call("forward_backward", {**fb, "forward_backward_input": {"data": [datum(SEQUENCE)], "loss_fn": "ppo"}}), 422),
            (c.call("forward_backward", {**fb, "forward_backward_input": {"data": [datum([1, 2, 999])], "loss_fn": "cross_entropy"}}), 422),
            # JSON's true is not a token id, nor a weight; a string is not a number
            (c.call("forward_backward", {**fb, "forward_backward_input": {"data": [datum([1, True, 3])], "loss_fn": "cross_entropy"}}), 422),
            (c.call("forward_backward", {**fb, "forward_backward_input": {"data": [
                {**datum([1, 2, 3]), "loss_fn_inputs": {"target_tokens": {"data": [2, 3]}, "weights": {"data": [1.0, True]}}}], "loss_fn": "cross_entropy"}}), 422),
            (c.call("forward_backward", {**fb, "forward_backward_input": {"data": [
                {**datum([1, 2, 3]), "loss_fn_inputs": {"target_tokens": {"data": [2, "3"]}}}], "loss_fn": "cross_entropy"}}), 422),
            (c.call("optim_step", {"model_id": model_id, "adam_params": {"learning_rate": -1}}), 422),
            (c.call("asample", {"prompt": {"chunks": [{"tokens": [1]}]}, "sampling_params": {"max_tokens": 4, "stop": ["\n"]}, "base_model": "tiny"}), 422),
            (c.call("asample", {"prompt": {"chunks": [{"tokens": [1]}]}, "sampling_params": {"max_tokens": 0}, "base_model": "tiny"}), 422),
            (c.call("create_model", {"base_model": "Qwen/Qwen3-8B", "lora_config": {"rank": 4}}), 422),
            (c.call("load_weights", {"model_id": model_id, "path": "tinker://../etc/weights/x"}), 422),
            (c.call("retrieve_future", {"request_id": "123456"}), 404),
        ]
        for index, ((status, payload), expected) in enumerate(cases):
            self.assertEqual(status, expected, f"case {index}: {payload}")
            self.assertIsInstance(payload["detail"], str)
            self.assertNotIn("Traceback", payload["detail"])

    def test_600_seeded_random_bad_requests_get_4xx_never_5xx(self):
        """Wrong methods, unknown paths, bodies that are not JSON objects, and valid bodies with one field (at any depth)
        replaced by a value of a random type. An unknown path is 404, a wrong method 405; nothing is 5xx."""
        c = self.client
        model_id = c.create_model(rank=4)
        valid = {
            "forward_backward": {"model_id": model_id, "forward_backward_input": {"data": [datum(SEQUENCE[:6])], "loss_fn": "cross_entropy", "loss_fn_config": None}},
            "forward": {"model_id": model_id, "forward_input": {"data": [datum(SEQUENCE[:6])], "loss_fn": "evolver_ppo", "loss_fn_config": {"kl_beta": 0.1}}},
            "optim_step": {"model_id": model_id, "adam_params": {"learning_rate": 1e-4, "beta1": 0.9}},
            "asample": {"prompt": {"chunks": [{"type": "encoded_text", "tokens": [1, 2]}]}, "num_samples": 1, "base_model": "tiny",
                        "sampling_params": {"max_tokens": 2, "temperature": 1.0, "top_p": 1.0, "top_k": -1, "seed": 1, "stop": [3]}},
            "create_model": {"base_model": "tiny", "lora_config": {"rank": 2, "seed": 1, "train_mlp": True}},
            "create_sampling_session": {"base_model": "tiny", "session_id": "s"},
            "save_weights": {"model_id": model_id, "path": "fuzz", "overwrite": True},
            "load_weights": {"model_id": model_id, "path": f"tinker://{model_id}/weights/fuzz", "optimizer": True},
            "save_weights_for_sampler": {"model_id": model_id, "path": "fuzz"},
            "weights_info": {"tinker_path": f"tinker://{model_id}/weights/fuzz"},
            "get_info": {"model_id": model_id},
            "session_heartbeat": {"session_id": "nope"},
            "retrieve_future": {"request_id": "1", "allow_metadata_only": False},
            "asample_batch": {"requests": [{"prompt": {"chunks": [{"type": "encoded_text", "tokens": [1, 2]}]}, "base_model": "tiny",
                                            "sampling_params": {"max_tokens": 1, "seed": 1}}]},
            "create_session": {"tags": ["a"], "sdk_version": "x"},
            "client/config": {"sdk_version": "x"},
        }
        rng = random.Random(1234)

        def junk(depth=0):
            makers = [lambda: None, lambda: True, lambda: -7, lambda: 3.5, lambda: "x" * rng.randrange(4), lambda: 10**30,
                      lambda: [1, "a", None], lambda: [junk(depth + 1)], lambda: {"k": junk(depth + 1)}]
            return makers[rng.randrange(len(makers) if depth < 2 else 7)]()

        def mutate(value):
            if isinstance(value, dict) and value and rng.random() < 0.7:
                key = rng.choice(list(value))
                return {**value, key: mutate(value[key])}
            if isinstance(value, list) and value and rng.random() < 0.7:
                index = rng.randrange(len(value))
                return value[:index] + [mutate(value[index])] + value[index + 1 :]
            return junk()

        statuses = []
        for i in range(600):
            kind = rng.randrange(4)
            path = rng.choice(list(valid) + ["healthz", "get_server_capabilities"])
            method, body = "POST", None
            if kind == 0:  # a method the path does not take, or one that does not exist
                method = rng.choice(["PUT", "DELETE", "PATCH", "OPTIONS", "FROB", "GET" if path in valid else "POST"])
                if method == "GET" and path == "retrieve_future":
                    method = "PUT"
                expected = {405}
            elif kind == 1:  # a path that is not there
                path = rng.choice(["nope", "forward_backward/x", "../etc/passwd", "asample2", "samplers"]) + str(i)
                method = rng.choice(["GET", "POST", "PUT"])
                expected = {404}
            elif kind == 2:  # not a JSON object
                path = rng.choice(list(valid))
                body = rng.choice([b"{", b"[]", b"null", b"12", b"\xff\xfe", b'"text"', b"{'a': 1}"])
                expected = {400}
            else:  # one field of a valid body of a wrong type
                path = rng.choice(list(valid))
                body = json.dumps(mutate(valid[path])).encode()
                expected = None  # any 2xx or 4xx: a mutation may leave the request valid
            if method != "POST" and body is None and kind == 0 and rng.random() < 0.5:
                body = b"{}"
            status, payload = raw_request(self.server, method, "/api/v1/" + path if not path.startswith("..") else "/" + path, body)
            statuses.append(status)
            where = f"request {i}: {method} {path} {body[:200] if body else None!r} -> {status} {payload}"
            self.assertLess(status, 500, where)
            if expected is not None:
                self.assertIn(status, expected, where)
            if status >= 400 and method != "HEAD":
                self.assertIsInstance(payload.get("detail"), str, where)
        self.assertGreater(statuses.count(404), 100)
        self.assertGreater(statuses.count(405), 100)

    def test_batched_and_unbatched_servers_sample_the_same(self):
        unbatched = start_server(self.base_dir, self.checkpoints, batched_sampling=False)
        try:
            request = {"prompt": {"chunks": [{"type": "encoded_text", "tokens": [5, 6, 7]}]}, "num_samples": 3, "base_model": "tiny",
                       "sampling_params": {"max_tokens": 5, "temperature": 1.0, "seed": 11}}
            with ThreadPoolExecutor(8) as pool:  # concurrent, so the batched server batches them
                bodies = [{**request, "sampling_params": {**request["sampling_params"], "seed": seed}} for seed in range(8)]
                batched = list(pool.map(lambda body: self.client.run("asample", body), bodies))
            reference = [Client(unbatched).run("asample", body) for body in bodies]
            for got, expected in zip(batched, reference):
                self.assertEqual([s["tokens"] for s in got["sequences"]], [s["tokens"] for s in expected["sequences"]])
                for a, b in zip(got["sequences"], expected["sequences"]):
                    for x, y in zip(a["logprobs"], b["logprobs"]):
                        self.assertAlmostEqual(x, y, places=5)
        finally:
            unbatched.shutdown()
            unbatched.server_close()

    def test_asample_batch_answers_each_request_as_its_own_asample_would_as_it_finishes(self):
        """Evolver's extension (evolver_features.sample_batch): one exchange, a JSON line per request: the same seeded
        samples as one asample each, on the batched and the unbatched sampler; a request refused at once gets its own
        4xx in its line and one that fails its own failure, without failing the others; lines come as requests finish."""
        self.assertTrue(self.client.ok("get_server_capabilities")["evolver_features"]["sample_batch"])

        def sample(seed, tokens=(5, 6, 7), max_tokens=4, **extra):
            return {"prompt": {"chunks": [{"type": "encoded_text", "tokens": list(tokens)}]}, "base_model": "tiny",
                    "sampling_params": {"max_tokens": max_tokens, "temperature": 1.0, "seed": seed}, **extra}

        def stream(server, body):
            connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=60)
            try:
                connection.request("POST", "/api/v1/asample_batch", body=json.dumps(body), headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                self.assertEqual((response.status, response.getheader("Content-Type")), (200, "application/x-ndjson"))
                return [json.loads(line) for line in iter(response.readline, b"")]
            finally:
                connection.close()

        bodies = [sample(seed) for seed in range(5)] + [sample(1, num_samples=0), sample(1, tokens=(999999,))]
        unbatched = start_server(self.base_dir, self.checkpoints, batched_sampling=False)
        try:
            for server in (self.server, unbatched):
                lines = {line["index"]: line for line in stream(server, {"requests": bodies})}
                self.assertEqual(sorted(lines), list(range(7)))
                for index in range(5):
                    alone = Client(server).run("asample", bodies[index])
                    got = lines[index]["result"]["sequences"]
                    self.assertEqual([s["tokens"] for s in got], [s["tokens"] for s in alone["sequences"]])
                    for a, b in zip(got[0]["logprobs"], alone["sequences"][0]["logprobs"]):
                        self.assertAlmostEqual(a, b, places=5)
                self.assertEqual((lines[5]["status"], lines[5]["detail"]), (422, Client(server).call("asample", bodies[5])[1]["detail"]))
                self.assertEqual(lines[6]["category"], "user")
                self.assertIn("outside the vocabulary", lines[6]["error"])
        finally:
            unbatched.shutdown()
            unbatched.server_close()
        # a short request's line comes while a long one is still sampling, not after it
        lines = stream(self.server, {"requests": [sample(3, max_tokens=200), sample(4, max_tokens=1)]})
        self.assertEqual([line["index"] for line in lines], [1, 0])
        self.assertEqual(len(lines[1]["result"]["sequences"][0]["tokens"]), 200)
        # a body that is not a batch is refused whole
        self.assertEqual(self.client.call("asample_batch", {"requests": []})[0], 422)
        self.assertEqual(self.client.call("asample_batch", {"requests": {"a": 1}})[0], 422)

    def test_seq_id_retry_and_conflict(self):
        c = self.client
        model_id = c.create_model(rank=4)
        body = {"model_id": model_id, "seq_id": 1, "forward_backward_input": {"data": [datum(SEQUENCE)], "loss_fn": "cross_entropy"}}
        first, again = c.ok("forward_backward", body), c.ok("forward_backward", body)
        self.assertEqual(first["request_id"], again["request_id"])
        other = {**body, "forward_backward_input": {"data": [datum(SEQUENCE[:5])], "loss_fn": "cross_entropy"}}
        self.assertEqual(c.call("forward_backward", other)[0], 409)

    def test_failed_future_reports_error_and_category(self):
        c = self.client
        model_id = c.create_model(rank=4)
        result = c.result(c.ok("load_weights", {"model_id": model_id, "path": f"tinker://{model_id}/weights/never_saved", "seq_id": 1}))
        self.assertEqual(result["category"], "user")
        self.assertIn("no checkpoint", result["error"])

    def test_retrieve_future_long_polls_then_says_try_again(self):
        release = threading.Event()
        state = self.server.state
        submitted = state.submit("blocker", lambda: release.wait(5) and {"done": True})
        saved, state.long_poll_seconds = state.long_poll_seconds, 0.05
        try:
            self.assertEqual(self.client.ok("retrieve_future", {"request_id": submitted["request_id"]})["type"], "try_again")
        finally:
            state.long_poll_seconds = saved
        release.set()
        self.assertEqual(self.client.result(submitted), {"done": True})

    def test_prefer_wait_answers_with_the_result_when_it_is_ready_in_time(self):
        request = {"prompt": {"chunks": [{"type": "encoded_text", "tokens": [5, 6, 7]}]}, "num_samples": 2, "base_model": "tiny",
                   "sampling_params": {"max_tokens": 4, "temperature": 1.0, "seed": 21}}
        connection = http.client.HTTPConnection("127.0.0.1", self.server.server_address[1], timeout=30)
        try:
            connection.request("POST", "/api/v1/asample", body=json.dumps(request), headers={"Content-Type": "application/json", "Prefer": "wait=10"})
            response = connection.getresponse()
            waited = json.loads(response.read())
            self.assertEqual((response.status, response.getheader("Preference-Applied")), (200, "wait"))
        finally:
            connection.close()
        self.assertEqual(waited, self.client.run("asample", request))  # what retrieve_future gives (seeded: the same)
        # work that is not done in time (queued behind a blocked job) answers with its future, as without the header
        model_id = self.client.create_model(rank=4)
        release = threading.Event()
        self.server.state.submit(model_id, lambda: release.wait(10) and {})
        body = {"model_id": model_id, "seq_id": 1, "forward_backward_input": {"data": [datum(SEQUENCE)], "loss_fn": "cross_entropy"}}
        saved, self.server.state.long_poll_seconds = self.server.state.long_poll_seconds, 0.05
        connection = http.client.HTTPConnection("127.0.0.1", self.server.server_address[1], timeout=30)
        try:
            connection.request("POST", "/api/v1/forward_backward", body=json.dumps(body), headers={"Content-Type": "application/json", "Prefer": "wait=10"})
            response = connection.getresponse()
            handle = json.loads(response.read())
            self.assertEqual((response.status, response.getheader("Preference-Applied")), (200, None))
        finally:
            connection.close()
            self.server.state.long_poll_seconds = saved
            release.set()
        self.assertIn("loss:sum", self.client.result(handle)["metrics"])

    def test_a_client_that_goes_away_before_its_answer_leaves_no_traceback(self):
        state = self.server.state
        release = threading.Event()
        submitted = state.submit("gone", lambda: release.wait(10) and {})
        saved, state.long_poll_seconds = state.long_poll_seconds, 0.3
        gone_before = self.server.clients_gone
        log = io.StringIO()
        try:
            with contextlib.redirect_stderr(log):
                client = socket.create_connection(("127.0.0.1", self.server.server_address[1]))
                body = json.dumps({"request_id": submitted["request_id"]}).encode()
                client.sendall(b"POST /api/v1/retrieve_future HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                # gone during the long-poll, with a reset (linger 0): the server's answer then cannot be written
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                deadline = time.monotonic() + 10
                while self.server.clients_gone == gone_before and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            state.long_poll_seconds = saved
            release.set()
        self.assertEqual(self.server.clients_gone, gone_before + 1)
        self.assertNotIn("Traceback", log.getvalue())
        self.assertEqual(self.client.ok("healthz"), {"status": "ok"})  # and the server goes on

    def test_training_state_survives_a_restart(self):
        c = self.client
        model_id = c.create_model(rank=4)
        for step in range(3):
            forward_backward(c, model_id, 2 * step + 1)
            c.run("optim_step", {"model_id": model_id, "seq_id": 2 * step + 2, "adam_params": {"learning_rate": 1e-2}})
        path = c.run("save_weights", {"model_id": model_id, "seq_id": 7, "path": "ckpt"})["path"]
        self.assertEqual(c.call("save_weights", {"model_id": model_id, "seq_id": 8, "path": "ckpt"})[0], 409)
        self.assertEqual(c.ok("weights_info", {"tinker_path": path})["lora_rank"], 4)

        def next_step(client, model, seq):
            forward_backward(client, model, seq)
            client.run("optim_step", {"model_id": model, "seq_id": seq + 1, "adam_params": {"learning_rate": 1e-2}})
            return forward_backward(client, model, seq + 2, path="forward")["loss_fn_outputs"][0]["logprobs"]["data"]

        expected = next_step(c, model_id, 9)
        restarted = start_server(self.base_dir, self.checkpoints)  # a new process would see the same files
        try:
            r = Client(restarted)
            new_id = r.create_model(rank=4)
            r.run("load_weights", {"model_id": new_id, "path": path, "optimizer": True, "seq_id": 1})
            got = next_step(r, new_id, 2)
        finally:
            restarted.shutdown()
            restarted.server_close()
        for a, b in zip(got, expected):
            self.assertAlmostEqual(a, b, places=5)


class StartupTest(unittest.TestCase):
    def test_a_model_folder_without_a_checkpoint_is_a_clear_error_not_a_traceback(self):
        with tempfile.TemporaryDirectory() as empty:
            run = subprocess.run([sys.executable, "-m", "trainer.server", "--base-model", empty, "--port", "0"],
                                 cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn(f"--base-model {empty}", run.stderr)
        self.assertIn("config.json", run.stderr)
        self.assertNotIn("Traceback", run.stderr)


class ShutdownTest(unittest.TestCase):
    def test_only_the_first_sigterm_interrupts(self):
        # the launcher's SIGTERM and the stdin watcher's both arrive; the second must not interrupt the shutdown
        previous = signal.getsignal(signal.SIGTERM)
        try:
            stop_on_sigterm()
            with self.assertRaises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
        finally:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    unittest.main()
