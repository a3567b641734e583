"""Writes test/vectors/tinker-proto/*.bin with Google's protobuf library and the Tinker SDK's generated module, so that
our two readers/writers (src/train/tinker-proto.ts, trainer/wire.py) are checked against bytes neither of them made.
A development-time tool only: nothing in the project imports it, and neither `protobuf` nor the SDK is a dependency.

  python3 scripts/tinker-proto-vectors.py --pb2-dir DIR   # DIR holds tinker_public_pb2.py from the SDK's source
                                                          # (src/tinker/proto/); Debian's python3-protobuf runs it,
                                                          # python3-zstandard makes the .zst (as the SDK compresses)

Each vector is one JSON file (the Tinker JSON body the bytes stand for, with the message name) and one .bin. Values
are exact in float32, so that JSON and protobuf agree to the bit. Maps are written deterministically (keys sorted).
"""
import argparse
import json
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "vectors", "tinker-proto")


def i32(values):
    return struct.pack(f"<{len(values)}i", *values)


def i64(values):
    return struct.pack(f"<{len(values)}q", *values)


def f32(values):
    return struct.pack(f"<{len(values)}f", *[math.nan if v is None else v for v in values])


def request(pb, body, forward_only):
    msg = pb.ForwardBackwardRequest(model_id=body["model_id"], seq_id=body["seq_id"], loss_fn=body["forward_backward_input"]["loss_fn"],
                                    forward_only=forward_only)
    for key, value in (body["forward_backward_input"].get("loss_fn_config") or {}).items():
        msg.loss_fn_config[key] = value
    for datum in body["forward_backward_input"]["data"]:
        d = msg.data.add()
        for chunk in datum["model_input"]["chunks"]:
            d.model_input.add().encoded_text.tokens = i32(chunk["tokens"])
        for name, tensor in datum["loss_fn_inputs"].items():
            t = d.loss_fn_inputs[name]
            if tensor["dtype"] == "int64":
                t.dtype, t.dense = pb.DTYPE_INT64, i64(tensor["data"])
            else:
                t.dtype, t.dense = pb.DTYPE_FLOAT32, f32(tensor["data"])
            t.shape.extend(tensor["shape"])
    return msg


def sample_response(pb, body):
    msg = pb.SampleResponse()
    for seq in body["sequences"]:
        s = msg.sequences.add(stop_reason=pb.STOP_REASON_STOP if seq["stop_reason"] == "stop" else pb.STOP_REASON_LENGTH, tokens=i32(seq["tokens"]))
        if seq.get("logprobs") is not None:
            s.logprobs = f32(seq["logprobs"])
    if body.get("prompt_logprobs") is not None:
        msg.prompt_logprobs = f32(body["prompt_logprobs"])
    return msg


def forward_backward_output(pb, body):
    msg = pb.ForwardBackwardOutput(loss_fn_output_type=body["loss_fn_output_type"])
    for key, value in body["metrics"].items():
        msg.metrics[key] = value
    outputs = body["loss_fn_outputs"]
    record = msg.loss_fn_outputs.add(num_datums=len(outputs))
    for name in outputs[0]:
        field = record.fields[name]
        field.dtype = pb.DTYPE_FLOAT32
        offsets, data = [0], b""
        for output in outputs:
            data += f32(output[name]["data"])
            offsets.append(len(data))
        field.data, field.offsets = data, i64(offsets)
    return msg


FB_REQUEST = {
    "model_id": "model_0a1b2c3d",
    "seq_id": 7,
    "forward_backward_input": {
        "loss_fn": "evolver_ppo",
        "loss_fn_config": {"clip_low": 0.2, "clip_high": 0.28, "kl_beta": 0.0},
        "data": [
            {"model_input": {"chunks": [{"type": "encoded_text", "tokens": [1, 17, 300]}, {"type": "encoded_text", "tokens": [42, 70000]}]},
             "loss_fn_inputs": {
                 "target_tokens": {"data": [17, 300, 42, 70000, 2], "dtype": "int64", "shape": [5]},
                 "weights": {"data": [0.0, 0.0, 1.0, 1.0, 1.0], "dtype": "float32", "shape": [5]},
                 "logprobs": {"data": [0.0, 0.0, -1.25, -0.5, -3.1415927410125732], "dtype": "float32", "shape": [5]},
                 "advantages": {"data": [0.0, 0.0, 0.75, 0.75, -0.375], "dtype": "float32", "shape": [5]},
             }},
            {"model_input": {"chunks": [{"type": "encoded_text", "tokens": [5]}]},
             "loss_fn_inputs": {
                 "target_tokens": {"data": [6], "dtype": "int64", "shape": [1]},
                 "weights": {"data": [1.0], "dtype": "float32", "shape": [1]},
                 "logprobs": {"data": [-2.0], "dtype": "float32", "shape": [1]},
                 "advantages": {"data": [-1.5], "dtype": "float32", "shape": [1]},
             }},
        ],
    },
}

SAMPLE_RESPONSE = {
    "sequences": [
        {"tokens": [11, 12, 13], "logprobs": [-0.125, -2.5, -0.0078125], "stop_reason": "stop"},
        {"tokens": [99999, 0], "logprobs": [-7.25, -1.0], "stop_reason": "length"},
    ],
    "prompt_logprobs": [None, -4.5, -0.25],
}

FB_OUTPUT = {
    "loss_fn_output_type": "ArrayRecord",
    "loss_fn_outputs": [
        {"logprobs": {"data": [-1.5, -0.25, -3.1415927410125732], "dtype": "float32", "shape": [3]},
         "elementwise_loss": {"data": [0.5, 0.125, 2.0], "dtype": "float32", "shape": [3]}},
        {"logprobs": {"data": [-0.75], "dtype": "float32", "shape": [1]},
         "elementwise_loss": {"data": [0.0], "dtype": "float32", "shape": [1]}},
    ],
    "metrics": {"loss:sum": 2.625, "trainer_seconds:sum": 0.123456789},
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pb2-dir", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.pb2_dir)
    import tinker_public_pb2 as pb  # noqa: E402 - from the SDK's source, at development time only

    forward = json.loads(json.dumps(FB_REQUEST))
    forward["seq_id"], forward["forward_backward_input"]["loss_fn"] = 8, "cross_entropy"
    forward["forward_backward_input"]["loss_fn_config"] = None
    vectors = {
        "forward_backward_request": ("ForwardBackwardRequest", {**FB_REQUEST, "forward_only": False}, request(pb, FB_REQUEST, False)),
        "forward_request": ("ForwardBackwardRequest", {**forward, "forward_only": True}, request(pb, forward, True)),
        "sample_response": ("SampleResponse", SAMPLE_RESPONSE, sample_response(pb, SAMPLE_RESPONSE)),
        "forward_backward_output": ("ForwardBackwardOutput", FB_OUTPUT, forward_backward_output(pb, FB_OUTPUT)),
    }
    os.makedirs(OUT, exist_ok=True)
    for name, (message, body, msg) in vectors.items():
        with open(os.path.join(OUT, f"{name}.bin"), "wb") as f:
            f.write(msg.SerializeToString(deterministic=True))
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump({"message": message, "body": body}, f, indent=1)
            f.write("\n")
        print(name, len(msg.SerializeToString(deterministic=True)), "bytes")
    import zstandard  # noqa: E402 - the SDK's compressor for proto_compress_fwdbwd, with its default settings
    with open(os.path.join(OUT, "forward_backward_request.bin"), "rb") as f:
        compressed = zstandard.ZstdCompressor().compress(f.read())
    with open(os.path.join(OUT, "forward_backward_request.bin.zst"), "wb") as f:
        f.write(compressed)
    print("forward_backward_request.bin.zst", len(compressed), "bytes")


if __name__ == "__main__":
    main()
