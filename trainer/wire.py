"""Tinker's protobuf wire format for exactly the messages the SDK sends or reads that way (proto/tinker_public.proto):
ForwardBackwardRequest in, SampleResponse and ForwardBackwardOutput out. Hand-written, so the trainer needs no
`protobuf` package: the format is tagged fields of four kinds (varint, 64-bit, length-delimited, 32-bit), and these
messages carry their arrays as raw little-endian bytes (tokens int32, floats float32, offsets int64).

A request decodes into the same dict its JSON body would be (endpoints.py checks both alike); a result dict encodes
into the SDK's message. Checked against bytes made by Google's library: test/vectors/tinker-proto/, test_wire.py.
"""
import math
import struct
import sys
from array import array
from typing import Dict, List, Tuple

CONTENT_TYPE = "application/x-protobuf"

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
DTYPE_FLOAT32, DTYPE_INT64, DTYPE_INT32, DTYPE_BFLOAT16 = 1, 2, 3, 4
STOP_REASONS = {"stop": 0, "length": 1}


class WireError(ValueError):
    """Bytes that are not the expected message."""


# ----- reading ---------------------------------------------------------------------------------------------------------


def _varint(data: bytes, at: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise WireError("a varint runs past the end")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise WireError("a varint is longer than 10 bytes")


def fields(data: bytes) -> Dict[int, list]:
    """Every field of one message: number -> values in order (ints for varints and fixed, bytes for the rest)."""
    if not isinstance(data, bytes):
        raise WireError("a message field holds a number")
    out: Dict[int, list] = {}
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, kind = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if kind == VARINT:
            value, at = _varint(data, at)
        elif kind == LENGTH:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise WireError(f"field {number} says {size} bytes, {len(data) - at} are left")
            value, at = data[at:at + size], at + size
        elif kind in (FIXED64, FIXED32):
            width = 8 if kind == FIXED64 else 4
            if at + width > len(data):
                raise WireError(f"field {number} runs past the end")
            value, at = int.from_bytes(data[at:at + width], "little"), at + width
        else:
            raise WireError(f"field {number} has wire type {kind}, which proto3 does not use")
        out.setdefault(number, []).append(value)
    return out


def _last(found: Dict[int, list], number: int, default):
    """A singular field (proto3: its last value wins), of the default's kind: bytes for length-delimited, else int."""
    if number not in found:
        return default
    value = found[number][-1]
    if isinstance(value, bytes) != isinstance(default, bytes):
        raise WireError(f"field {number} has the wrong wire type")
    return value


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _string(found: Dict[int, list], number: int) -> str:
    raw = _last(found, number, b"")
    if not isinstance(raw, bytes):
        raise WireError(f"field {number} should be a string")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(f"field {number} is not UTF-8") from None


def _array(raw: bytes, code: str) -> list:
    values = array(code)
    if len(raw) % values.itemsize:
        raise WireError(f"{len(raw)} bytes is no whole number of {values.itemsize}-byte items")
    values.frombytes(raw)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tolist()


def _bfloat16(raw: bytes) -> List[float]:
    return [struct.unpack("<f", struct.pack("<I", bits << 16))[0] for bits in _array(raw, "H")]


def _map(entries: list, read_value) -> dict:
    out = {}
    for entry in entries:
        found = fields(entry)
        out[_string(found, 1)] = read_value(found)
    return out


def _tensor(raw: bytes) -> dict:
    """A Tensor as JSON TensorData; a sparse one keeps its index fields, so the request checks refuse it by name."""
    found = fields(raw)
    dtype = _last(found, 3, 0)
    shape = [_signed(v, 64) for v in _packed_varints(found.get(4, []))]
    if 2 in found:
        csr = fields(_last(found, 2, b""))
        return {"data": [], "sparse_crow_indices": _array(_last(csr, 2, b""), "q"), "sparse_col_indices": _array(_last(csr, 3, b""), "q")}
    dense = _last(found, 1, b"")
    if dtype == DTYPE_FLOAT32:
        return {"data": _array(dense, "f"), "dtype": "float32", "shape": shape}
    if dtype in (DTYPE_INT64, DTYPE_INT32):
        return {"data": _array(dense, "q" if dtype == DTYPE_INT64 else "i"), "dtype": "int64", "shape": shape}
    if dtype == DTYPE_BFLOAT16:
        return {"data": _bfloat16(dense), "dtype": "float32", "shape": shape}
    raise WireError(f"tensor dtype {dtype} is none of float32, int64, int32, bfloat16")


def _packed_varints(values: list) -> List[int]:
    """A repeated varint field: packed (one length-delimited run), as proto3 writes it, or one value per tag."""
    out: List[int] = []
    for value in values:
        if isinstance(value, bytes):
            at = 0
            while at < len(value):
                item, at = _varint(value, at)
                out.append(item)
        else:
            out.append(value)
    return out


def _chunk(raw: bytes) -> dict:
    found = fields(raw)
    if 1 in found:
        return {"type": "encoded_text", "tokens": _array(_last(fields(_last(found, 1, b"")), 1, b""), "i")}
    # images and audio are valid messages this trainer does not serve: named, so the request checks refuse them
    return {"type": "image" if 2 in found else "dmel" if 3 in found else "unknown"}


def read_forward_backward_request(raw: bytes) -> Tuple[dict, bool]:
    """A ForwardBackwardRequest -> (its JSON body with `forward_backward_input`, forward_only). Any bytes that are not
    one raise WireError (the server answers 400), never another exception."""
    try:
        return _read_forward_backward_request(raw)
    except (OverflowError, struct.error, TypeError) as error:  # e.g. a double field that came as a huge varint
        raise WireError(f"malformed: {error}") from None


def _read_forward_backward_request(raw: bytes) -> Tuple[dict, bool]:
    found = fields(raw)
    data = []
    for datum_raw in found.get(3, []):
        datum = fields(datum_raw)
        data.append({
            "model_input": {"chunks": [_chunk(c) for c in datum.get(1, [])]},
            "loss_fn_inputs": _map(datum.get(2, []), lambda entry: _tensor(_last(entry, 2, b""))),
        })
    config = _map(found.get(5, []), lambda entry: struct.unpack("<d", _last(entry, 2, 0).to_bytes(8, "little"))[0])
    if not all(isinstance(v, float) and math.isfinite(v) for v in config.values()):
        raise WireError("loss_fn_config has a value that is not a finite number")
    body = {
        "model_id": _string(found, 1),
        "seq_id": _signed(_last(found, 2, 0), 64),
        "forward_backward_input": {"data": data, "loss_fn": _string(found, 4), "loss_fn_config": config or None},
    }
    return body, bool(_last(found, 6, 0))


# ----- writing ---------------------------------------------------------------------------------------------------------


def _put_varint(out: bytearray, value: int) -> None:
    value &= (1 << 64) - 1  # negative ints are written as their 64-bit two's complement, as protobuf does
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _put_bytes(out: bytearray, number: int, value: bytes) -> None:
    _put_varint(out, number << 3 | LENGTH)
    _put_varint(out, len(value))
    out += value


def _put_int(out: bytearray, number: int, value: int) -> None:
    if value:  # proto3 leaves zero off the wire
        _put_varint(out, number << 3 | VARINT)
        _put_varint(out, value)


def _put_string(out: bytearray, number: int, value: str) -> None:
    if value:
        _put_bytes(out, number, value.encode("utf-8"))


def _pack(code: str, values) -> bytes:
    packed = array(code, values)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def write_sample_response(result: dict) -> bytes:
    """A sample result ({sequences, prompt_logprobs}) as SampleResponse; a missing prompt logprob travels as NaN."""
    out = bytearray()
    for sequence in result["sequences"]:
        seq = bytearray()
        _put_int(seq, 1, STOP_REASONS[sequence["stop_reason"]])
        if sequence["tokens"]:
            _put_bytes(seq, 2, _pack("i", sequence["tokens"]))
        if sequence.get("logprobs") is not None:
            _put_bytes(seq, 3, _pack("f", sequence["logprobs"]))
        _put_bytes(out, 1, bytes(seq))
    if result.get("prompt_logprobs") is not None:
        _put_bytes(out, 2, _pack("f", [math.nan if v is None else v for v in result["prompt_logprobs"]]))
    return bytes(out)


def write_forward_backward_output(result: dict) -> bytes:
    """A forward/forward_backward result ({loss_fn_outputs: [{name: TensorData}], metrics}) as ForwardBackwardOutput:
    one ArrayRecord holding, per output name, every datum's array end to end with their byte offsets."""
    outputs = result["loss_fn_outputs"]
    record = bytearray()
    for name in sorted(outputs[0]) if outputs else []:
        is_int = outputs[0][name].get("dtype") == "int64"
        parts = [_pack("q" if is_int else "f", output[name]["data"]) for output in outputs]
        offsets = [0]
        for part in parts:
            offsets.append(offsets[-1] + len(part))
        tensor = bytearray()
        if any(parts):
            _put_bytes(tensor, 1, b"".join(parts))
        _put_bytes(tensor, 2, _pack("q", offsets))
        _put_int(tensor, 3, DTYPE_INT64 if is_int else DTYPE_FLOAT32)
        entry = bytearray()  # a map entry carries its key and value even where they are empty or zero
        _put_bytes(entry, 1, name.encode("utf-8"))
        _put_bytes(entry, 2, bytes(tensor))
        _put_bytes(record, 2, bytes(entry))
    _put_int(record, 3, len(outputs))
    out = bytearray()
    _put_string(out, 1, result.get("loss_fn_output_type") or "ArrayRecord")
    _put_bytes(out, 2, bytes(record))
    for key in sorted(result.get("metrics", {})):
        entry = bytearray()
        _put_bytes(entry, 1, key.encode("utf-8"))
        _put_varint(entry, 2 << 3 | FIXED64)
        entry += struct.pack("<d", float(result["metrics"][key]))
        _put_bytes(out, 3, bytes(entry))
    return bytes(out)


# the futures whose results an SDK may ask for as protobuf (Accept: application/x-protobuf), by Future.kind
WRITERS = {"sample": write_sample_response, "forward_backward": write_forward_backward_output}
