"""The hand-written protobuf reader/writer against bytes made by Google's protobuf library with the Tinker SDK's own
message module (test/vectors/tinker-proto/), then the server speaking it: forward_backward sent as protobuf gives what
the same request as JSON gives, and results asked for as protobuf decode to the JSON answer."""
import json
import math
import os
import random
import struct
import unittest
import urllib.error
import urllib.request

from trainer import wire
from trainer.test_server import SEQUENCE, TinyServerCase, datum

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "vectors", "tinker-proto")


def vector(name):
    with open(os.path.join(VECTORS, f"{name}.json")) as f:
        body = json.load(f)["body"]
    with open(os.path.join(VECTORS, f"{name}.bin"), "rb") as f:
        return body, f.read()


def read_sample_response(raw):
    """SampleResponse -> its JSON shape, with the generic field reader (the server never reads one; tests do)."""
    found = wire.fields(raw)
    sequences = []
    for seq_raw in found.get(1, []):
        seq = wire.fields(seq_raw)
        sequences.append({"tokens": wire._array(seq.get(2, [b""])[-1], "i"),
                          "logprobs": wire._array(seq[3][-1], "f") if 3 in seq else None,
                          "stop_reason": ["stop", "length"][seq.get(1, [0])[-1]]})
    prompt = [None if math.isnan(v) else v for v in wire._array(found[2][-1], "f")] if 2 in found else None
    return {"sequences": sequences, "prompt_logprobs": prompt}


def read_forward_backward_output(raw):
    found = wire.fields(raw)
    outputs, metrics = None, {}
    for record_raw in found.get(2, []):
        record = wire.fields(record_raw)
        count = record.get(3, [0])[-1]
        outputs = [{} for _ in range(count)]
        for entry_raw in record.get(2, []):
            entry = wire.fields(entry_raw)
            name, tensor = entry[1][-1].decode(), wire.fields(entry[2][-1])
            data, offsets = tensor.get(1, [b""])[-1], wire._array(tensor[2][-1], "q")
            for i in range(count):
                outputs[i][name] = wire._array(data[offsets[i]:offsets[i + 1]], "f")
    for entry_raw in found.get(3, []):
        entry = wire.fields(entry_raw)
        metrics[entry[1][-1].decode()] = struct.unpack("<d", entry[2][-1].to_bytes(8, "little"))[0]
    return {"loss_fn_outputs": outputs or [], "metrics": metrics}


class WireVectorTest(unittest.TestCase):
    def test_requests_read_into_their_json_bodies(self):
        for name in ("forward_backward_request", "forward_request"):
            body, raw = vector(name)
            forward_only = body.pop("forward_only")
            self.assertEqual(wire.read_forward_backward_request(raw), (body, forward_only), name)

    def test_sample_response_written_byte_for_byte(self):
        body, raw = vector("sample_response")
        self.assertEqual(wire.write_sample_response(body), raw)
        self.assertEqual(read_sample_response(raw), body)

    def test_forward_backward_output_written_byte_for_byte(self):
        body, raw = vector("forward_backward_output")
        self.assertEqual(wire.write_forward_backward_output(body), raw)
        self.assertEqual(read_forward_backward_output(raw)["metrics"], body["metrics"])

    def test_malformed_bytes_raise_wire_error_naming_the_problem(self):
        cases = {
            b"\x0a\x50\x01": "says 80 bytes",               # field 1 longer than the message
            b"\x0b": "wire type 3",                          # a group start: not proto3
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01": "longer than 10 bytes",
            b"\x1a\x07\x0a\x05\x0a\x03\x0a\x01\x07": "whole number",  # data[0].model_input[0].encoded_text.tokens: 1 byte
        }
        for raw, words in cases.items():
            with self.assertRaises(wire.WireError) as caught:
                wire.read_forward_backward_request(raw)
            self.assertIn(words, str(caught.exception))

    def test_unpacked_repeated_ints_and_negative_seq_ids_read_as_protobuf_defines_them(self):
        # Datum with a Tensor whose shape comes one varint per tag (allowed for repeated scalars) and seq_id -1
        tensor = b"\x0a\x04" + struct.pack("<f", 1.5) + b"\x18\x01" + b"\x20\x01"
        entry = b"\x0a\x01w" + b"\x12" + bytes([len(tensor)]) + tensor
        datum_raw = b"\x12" + bytes([len(entry)]) + entry
        raw = b"\x10" + b"\xff" * 9 + b"\x01" + b"\x1a" + bytes([len(datum_raw)]) + datum_raw
        body, forward_only = wire.read_forward_backward_request(raw)
        self.assertEqual(body["seq_id"], -1)
        self.assertEqual(body["forward_backward_input"]["data"][0]["loss_fn_inputs"]["w"], {"data": [1.5], "dtype": "float32", "shape": [1]})
        self.assertFalse(forward_only)


def proto_request(model_id, seq_id, data, forward_only=False, loss_fn="cross_entropy"):
    """A ForwardBackwardRequest written here with the module's own primitives (the vectors test the reader)."""
    out = bytearray()
    wire._put_bytes(out, 1, model_id.encode())
    wire._put_int(out, 2, seq_id)
    for d in data:
        datum_out = bytearray()
        chunk = bytearray()
        wire._put_bytes(chunk, 1, wire._pack("i", d["model_input"]["chunks"][0]["tokens"]))
        wrapped = bytearray()
        wire._put_bytes(wrapped, 1, bytes(chunk))
        wire._put_bytes(datum_out, 1, bytes(wrapped))
        for name, tensor in d["loss_fn_inputs"].items():
            t = bytearray()
            is_int = tensor.get("dtype") == "int64"
            wire._put_bytes(t, 1, wire._pack("q" if is_int else "f", tensor["data"]))
            wire._put_int(t, 3, wire.DTYPE_INT64 if is_int else wire.DTYPE_FLOAT32)
            entry = bytearray()
            wire._put_bytes(entry, 1, name.encode())
            wire._put_bytes(entry, 2, bytes(t))
            wire._put_bytes(datum_out, 2, bytes(entry))
        wire._put_bytes(out, 3, bytes(datum_out))
    wire._put_bytes(out, 4, loss_fn.encode())
    wire._put_int(out, 6, int(forward_only))
    return bytes(out)


class WireServerTest(TinyServerCase):
    def post(self, path, data, content_type, accept="application/json", encoding=None):
        headers = {"Content-Type": content_type, "Accept": accept}
        if encoding:
            headers["Content-Encoding"] = encoding
        request = urllib.request.Request(self.client.base + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers.get("Content-Type"), response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Content-Type"), error.read()

    def result(self, request_id, accept):
        while True:
            status, kind, raw = self.post("retrieve_future", json.dumps({"request_id": request_id}).encode(), "application/json", accept)
            self.assertEqual(status, 200, raw)
            if kind == wire.CONTENT_TYPE:
                return raw
            payload = json.loads(raw)
            if payload.get("type") != "try_again":
                return payload

    def test_client_config_advertises_protobuf_forward_backward_without_zstd(self):
        config = self.client.ok("client/config", {"sdk_version": "0.25.0"})
        self.assertEqual((config["proto_write_fwdbwd"], config["fwd_via_fwdbwd"], config["proto_compress_fwdbwd"]), (True, True, False))

    def test_client_config_sends_the_sdk_to_httpx_default_transport(self):
        # SDK 0.25 builds its HTTP client on pyqwest (a compiled reqwest wheel) unless client/config says false; false
        # is what scripts/tinker-sdk-check.py could run (no pyqwest here), so every SDK talks to us over what was checked
        config = self.client.ok("client/config", {"sdk_version": "0.25.0"})
        self.assertIs(config.get("use_pyqwest_transport"), False)

    def test_protobuf_forward_backward_and_forward_match_json(self):
        c = self.client
        data = [datum(SEQUENCE), datum(SEQUENCE[:7])]
        proto_model, json_model = c.create_model(rank=0), c.create_model(rank=0)
        # forward (forward_only) and forward_backward as protobuf, results as protobuf; the same as JSON on a twin model
        for seq_id, forward_only in ((1, True), (2, False)):
            status, _, raw = self.post("forward_backward", proto_request(proto_model, seq_id, data, forward_only), wire.CONTENT_TYPE)
            self.assertEqual(status, 200, raw)
            proto_out = read_forward_backward_output(self.result(json.loads(raw)["request_id"], wire.CONTENT_TYPE))
            key = "forward_input" if forward_only else "forward_backward_input"
            json_out = c.run("forward" if forward_only else "forward_backward",
                             {"model_id": json_model, "seq_id": seq_id, key: {"data": data, "loss_fn": "cross_entropy", "loss_fn_config": None}})
            self.assertEqual(proto_out["loss_fn_outputs"], [{k: v["data"] for k, v in o.items()} for o in json_out["loss_fn_outputs"]])
            self.assertEqual(proto_out["metrics"]["loss:sum"], json_out["metrics"]["loss:sum"])
            self.assertEqual(len(proto_out["loss_fn_outputs"][1]["logprobs"]), len(SEQUENCE[:7]) - 1)
        # the gradients were the same: one step on each model leaves them equal
        for model in (proto_model, json_model):
            c.run("optim_step", {"model_id": model, "seq_id": 3, "adam_params": {"learning_rate": 1e-2}})
        after = [c.run("forward", {"model_id": m, "seq_id": 4, "forward_input": {"data": data, "loss_fn": "cross_entropy", "loss_fn_config": None}})
                 for m in (proto_model, json_model)]
        self.assertEqual(after[0]["loss_fn_outputs"], after[1]["loss_fn_outputs"])

    def test_sample_result_as_protobuf_equals_the_json_result(self):
        body = {"base_model": "tiny", "prompt": {"chunks": [{"type": "encoded_text", "tokens": [1, 2, 3]}]}, "num_samples": 2,
                "prompt_logprobs": True, "sampling_params": {"max_tokens": 4, "seed": 11, "temperature": 1.0}}
        answers = []
        for accept in (wire.CONTENT_TYPE, "application/json"):
            request_id = self.client.ok("asample", body)["request_id"]
            answers.append(self.result(request_id, accept))
        self.assertIsInstance(answers[0], bytes)
        expected = {"sequences": answers[1]["sequences"], "prompt_logprobs": answers[1]["prompt_logprobs"]}
        self.assertEqual(read_sample_response(answers[0]), expected)
        self.assertIsNone(expected["prompt_logprobs"][0])

    def test_protobuf_where_it_is_not_read_is_refused_with_4xx(self):
        model_id = self.client.create_model(rank=0)
        cases = [
            ("optim_step", b"\x0a\x01x", None, 415, "takes JSON"),
            ("forward_backward", proto_request(model_id, 1, [datum(SEQUENCE)]), "zstd", 415, "proto_compress_fwdbwd"),
            ("forward_backward", b"\x0a\x50\x01", None, 400, "not a protobuf ForwardBackwardRequest"),
            ("forward_backward", proto_request("model_none", 1, [datum(SEQUENCE)]), None, 404, "unknown model_id"),
            ("forward_backward", proto_request(model_id, 2, [datum(SEQUENCE)], loss_fn="nope"), None, 422, "nope"),
        ]
        for path, raw, encoding, status, words in cases:
            got, kind, answer = self.post(path, raw, wire.CONTENT_TYPE, encoding=encoding)
            self.assertEqual((got, kind), (status, "application/json"), answer)
            self.assertIn(words, json.loads(answer)["detail"])

    def test_300_seeded_random_protobuf_bodies_get_4xx_or_run_never_5xx(self):
        # random bytes, and valid requests with bytes flipped, cut or inserted: each is a bad request (4xx) or, where
        # it still reads as a valid one, accepted; the reader never fails the server
        model_id = self.client.create_model(rank=0)
        valid = proto_request(model_id, 1, [datum(SEQUENCE)])
        rng = random.Random(16)
        statuses = []
        for i in range(300):
            if i % 3 == 0:
                raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
            else:
                raw = bytearray(valid)
                for _ in range(rng.randrange(1, 4)):
                    at = rng.randrange(len(raw))
                    action = rng.randrange(3)
                    if action == 0:
                        raw[at] = rng.randrange(256)
                    elif action == 1:
                        del raw[at:at + rng.randrange(1, 8)]
                    else:
                        raw[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4)))
                raw = bytes(raw)
            status, kind, answer = self.post("forward_backward", raw, wire.CONTENT_TYPE)
            self.assertLess(status, 500, answer)
            self.assertEqual(kind, "application/json")
            statuses.append(status)
        self.assertGreater(sum(s in (400, 404, 422) for s in statuses), 200, sorted(set(statuses)))

    def test_failures_and_other_results_stay_json_when_protobuf_is_accepted(self):
        request_id = self.client.ok("create_model", {"base_model": "tiny", "lora_config": {"rank": 0}, "model_seq_id": 0})["request_id"]
        created = self.result(request_id, wire.CONTENT_TYPE)
        self.assertIsInstance(created, dict)
        self.assertTrue(created["model_id"].startswith("model_"))


if __name__ == "__main__":
    unittest.main()
