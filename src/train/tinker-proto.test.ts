// The protobuf codec against bytes made by Google's protobuf library with the Tinker SDK's own message module
// (test/vectors/tinker-proto/, written by scripts/tinker-proto-vectors.py): reading them gives the JSON they stand for,
// and writing that JSON gives the same bytes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { EvolverError } from "../core/errors.js";
import { loadTinkerProto, type ForwardBackwardBody } from "./tinker-proto.js";
import type { ForwardBackwardOutput, SampleResult } from "./tinker-schema.js";

const dir = new URL("../../test/vectors/tinker-proto/", import.meta.url);
function vector<T>(name: string): { body: T; bytes: Uint8Array } {
  const { body } = JSON.parse(readFileSync(new URL(`${name}.json`, dir), "utf8")) as { body: T };
  return { body, bytes: new Uint8Array(readFileSync(new URL(`${name}.bin`, dir))) };
}

type RequestVector = ForwardBackwardBody & { forward_only: boolean };

for (const name of ["forward_backward_request", "forward_request"]) {
  test(`${name}: the SDK's bytes decode to the JSON body, and the body encodes to the SDK's bytes`, async () => {
    const proto = await loadTinkerProto();
    const { body, bytes } = vector<RequestVector>(name);
    const { forward_only, ...json } = body;
    const decoded = proto.decodeForwardBackwardRequest(bytes);
    assert.deepEqual(decoded, { body: json, forwardOnly: forward_only });
    assert.deepEqual(proto.encodeForwardBackwardRequest(json, forward_only), bytes);
  });
}

test("sample_response: sequences, stop reasons, float32 logprobs; the first prompt logprob (NaN on the wire) is null", async () => {
  const proto = await loadTinkerProto();
  const { body, bytes } = vector<SampleResult>("sample_response");
  const decoded = proto.decodeSampleResponse(bytes);
  assert.deepEqual(decoded, body);
  assert.equal(decoded.prompt_logprobs?.[0], null);
  assert.deepEqual(proto.encodeSampleResponse(body), bytes);
});

test("forward_backward_output: one ArrayRecord of batched float32 outputs split per datum by byte offsets", async () => {
  const proto = await loadTinkerProto();
  const { body, bytes } = vector<ForwardBackwardOutput>("forward_backward_output");
  const decoded = proto.decodeForwardBackwardOutput(bytes);
  assert.deepEqual(decoded, body);
  assert.equal(decoded.loss_fn_outputs[1].logprobs.data.length, 1);
  assert.deepEqual(proto.encodeForwardBackwardOutput(body), bytes);
});

test("evolver_ppo's config (strings, nulls) cannot travel as protobuf: the encoder says so and the client keeps JSON", async () => {
  const proto = await loadTinkerProto();
  const { body } = vector<RequestVector>("forward_backward_request");
  const withStrings = { ...body, forward_backward_input: { ...body.forward_backward_input, loss_fn_config: { clip_low: 0.2, aggregation: "token-mean" } } };
  assert.equal(proto.encodeForwardBackwardRequest(withStrings, false), undefined);
  const withNull = { ...body, forward_backward_input: { ...body.forward_backward_input, loss_fn_config: { dual_clip_c: null } } };
  assert.equal(proto.encodeForwardBackwardRequest(withNull, false), undefined);
});

test("a float64 value travels as float32, as the SDK sends it (the trainer computes in float32 either way)", async () => {
  const proto = await loadTinkerProto();
  const body: ForwardBackwardBody = {
    model_id: "m",
    seq_id: 1,
    forward_backward_input: {
      loss_fn: "cross_entropy",
      loss_fn_config: null,
      data: [{ model_input: { chunks: [{ type: "encoded_text", tokens: [1, 2] }] }, loss_fn_inputs: { target_tokens: { data: [2, 3] }, weights: { data: [0.1, 1 / 3] } } }],
    },
  };
  const { body: back } = proto.decodeForwardBackwardRequest(proto.encodeForwardBackwardRequest(body, false)!);
  const inputs = back.forward_backward_input.data[0].loss_fn_inputs;
  assert.deepEqual(inputs.target_tokens, { data: [2, 3], dtype: "int64", shape: [2] });
  assert.deepEqual(inputs.weights.data, [Math.fround(0.1), Math.fround(1 / 3)]);
});

test("bfloat16 and int32 outputs widen to float32 and int64; several ArrayRecords concatenate", async () => {
  const proto = await loadTinkerProto();
  // bfloat16 1.5 is 0x3FC0, -2 is 0xC000: the high halves of their float32 bits
  const bf16 = new Uint8Array(new Uint16Array([0x3fc0, 0xc000]).buffer);
  const int32 = new Uint8Array(new Int32Array([7]).buffer);
  const offsets = (values: number[]) => new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer);
  const protobuf = (await import("protobufjs")).default;
  const root = protobuf.parse(readFileSync(new URL("../../proto/tinker_public.proto", import.meta.url), "utf8"), { keepCase: true }).root;
  const Output = root.lookupType("tinker_public.ForwardBackwardOutput");
  const bytes = Output.encode(
    Output.create({
      loss_fn_output_type: "tinker.types:ArrayRecord",
      loss_fn_outputs: [
        { fields: { x: { data: bf16, offsets: offsets([0, 2, 4]), dtype: 4 } }, num_datums: 2 },
        { fields: { x: { data: int32, offsets: offsets([0, 4]), dtype: 3 } }, num_datums: 1 },
      ],
    }),
  ).finish();
  const decoded = proto.decodeForwardBackwardOutput(bytes);
  assert.equal(decoded.loss_fn_output_type, "ArrayRecord");
  assert.deepEqual(
    decoded.loss_fn_outputs.map((o) => o.x),
    [
      { data: [1.5], dtype: "float32", shape: [1] },
      { data: [-2], dtype: "float32", shape: [1] },
      { data: [7], dtype: "int64", shape: [1] },
    ],
  );
});

test("bytes that are not the message, or arrays cut mid-item, are a TRAINER_BAD_RESPONSE naming the problem", async () => {
  const proto = await loadTinkerProto();
  const isBad = (pattern: RegExp) => (error: unknown) => EvolverError.isInstance(error) && error.code === "TRAINER_BAD_RESPONSE" && pattern.test(error.message);
  assert.throws(() => proto.decodeSampleResponse(new Uint8Array([0x0a, 0x50, 0x01])), isBad(/not a SampleResponse/));
  // SampleResponse { sequences: [{ tokens: 3 bytes }] }: field 1 (length 5) holding field 2 (length 3)
  assert.throws(() => proto.decodeSampleResponse(new Uint8Array([0x0a, 0x05, 0x12, 0x03, 1, 0, 0])), isBad(/whole number of 4-byte items/));
});

test("zstd: the SDK's compressor's frame (python zstandard) decompresses to the request; ours round-trips", async () => {
  const { zstdCompress, zstdDecompress } = await import("./zstd.js");
  const plain = vector<RequestVector>("forward_backward_request").bytes;
  const theirs = new Uint8Array(readFileSync(new URL("forward_backward_request.bin.zst", dir)));
  assert.deepEqual(await zstdDecompress(theirs), plain);
  const ours = await zstdCompress(plain);
  assert.deepEqual(await zstdDecompress(ours), plain);
  assert.deepEqual([...ours.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], "a zstd frame starts with its magic number");
});
