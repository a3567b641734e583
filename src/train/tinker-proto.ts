// Tinker's protobuf wire format (proto/tinker_public.proto): what the Python SDK sends or reads as protobuf, turned
// into and out of the protocol's JSON shapes (tinker-schema.ts), so that the rest of the client sees one shape.
//
// The library is protobufjs: it reads the .proto text at run time (no code generator, no generated files to keep in
// step) and is the most used protobuf library on npm. It is loaded on first use (`loadTinkerProto`), never at CLI
// startup. Arrays travel as raw little-endian bytes (tokens int32, logprobs float32, offsets int64), as the SDK
// writes them with numpy; typed arrays read them directly on little-endian hosts, and others are refused at load.
import { readFileSync } from "node:fs";
import { endianness } from "node:os";
import { fileURLToPath } from "node:url";
import type * as Protobuf from "protobufjs";
import { trainerError } from "./errors.js";
import type { Datum, ForwardBackwardOutput, LossFnConfig, SampleResult, TensorData } from "./tinker-schema.js";

/** The .proto file, at the package root in the repository and in the npm package alike. */
const PROTO_FILE = fileURLToPath(new URL("../../proto/tinker_public.proto", import.meta.url));

export const PROTO_CONTENT_TYPE = "application/x-protobuf";

/** The messages a future's result may come back as. */
export type ProtoResult = "SampleResponse" | "ForwardBackwardOutput";

/** forward_backward's JSON body (forward's too, with `forward_input`), as TrainingClient builds it. */
export interface ForwardBackwardBody {
  model_id: string;
  seq_id: number;
  forward_backward_input: { data: Datum[]; loss_fn: string; loss_fn_config: LossFnConfig | null };
}

// DType and StopReason numbers of the .proto
const DTYPE = { unspecified: 0, float32: 1, int64: 2, int32: 3, bfloat16: 4 } as const;
const STOP_REASONS = ["stop", "length"] as const;

let loading: Promise<TinkerProto> | undefined;

/** The codec, loaded once (protobufjs and the .proto) on first use. */
export function loadTinkerProto(): Promise<TinkerProto> {
  loading ??= (async () => {
    if (endianness() !== "LE") throw trainerError("TRAINER_BAD_RESPONSE", "Tinker's protobuf arrays are little-endian; this host is not");
    const protobuf = (await import("protobufjs")).default;
    return new TinkerProto(protobuf.parse(readFileSync(PROTO_FILE, "utf8"), { keepCase: true }).root);
  })();
  return loading;
}

export class TinkerProto {
  private readonly request: Protobuf.Type;
  private readonly sampleResponse: Protobuf.Type;
  private readonly output: Protobuf.Type;

  constructor(root: Protobuf.Root) {
    this.request = root.lookupType("tinker_public.ForwardBackwardRequest");
    this.sampleResponse = root.lookupType("tinker_public.SampleResponse");
    this.output = root.lookupType("tinker_public.ForwardBackwardOutput");
  }

  /**
   * forward_backward (or, with forwardOnly, forward) as protobuf; undefined where protobuf cannot carry the request,
   * as the SDK falls back to JSON then: its loss_fn_config is a map of numbers, and evolver_ppo's has strings and nulls.
   */
  encodeForwardBackwardRequest(body: ForwardBackwardBody, forwardOnly: boolean): Uint8Array | undefined {
    const input = body.forward_backward_input;
    const config = input.loss_fn_config ?? {};
    if (!Object.values(config).every((value) => typeof value === "number")) return undefined;
    const message: Record<string, unknown> = {
      model_id: body.model_id,
      seq_id: body.seq_id,
      data: input.data.map((datum) => ({
        model_input: datum.model_input.chunks.map((chunk) => ({ encoded_text: { tokens: int32Bytes(chunk.tokens) } })),
        loss_fn_inputs: Object.fromEntries(sortedEntries(datum.loss_fn_inputs).map(([name, tensor]) => [name, tensorMessage(name, tensor)])),
      })),
      loss_fn: input.loss_fn,
      loss_fn_config: Object.fromEntries(sortedEntries(config)),
    };
    // proto3 leaves a false bool off the wire; setting it would still be valid, but the bytes would differ from the SDK's
    if (forwardOnly) message.forward_only = true;
    return plain(this.request.encode(this.request.create(message)).finish());
  }

  /** The server's side of encodeForwardBackwardRequest (tests, and a reader of what the SDK sends). */
  decodeForwardBackwardRequest(bytes: Uint8Array): { body: ForwardBackwardBody; forwardOnly: boolean } {
    const message = this.decode(this.request, bytes) as unknown as {
      model_id: string;
      seq_id: number;
      data: { model_input: { encoded_text?: { tokens: Uint8Array } }[]; loss_fn_inputs: Record<string, ProtoTensor> }[];
      loss_fn: string;
      loss_fn_config: Record<string, number>;
      forward_only: boolean;
    };
    const data: Datum[] = message.data.map((datum, i) => ({
      model_input: {
        chunks: datum.model_input.map((chunk, j) => {
          if (!chunk.encoded_text) throw badProto(`data[${i}].model_input[${j}]: only encoded_text chunks are read`);
          return { type: "encoded_text" as const, tokens: int32Values(chunk.encoded_text.tokens) };
        }),
      },
      loss_fn_inputs: Object.fromEntries(Object.entries(datum.loss_fn_inputs).map(([name, tensor]) => [name, tensorData(tensor, `data[${i}].${name}`)])),
    }));
    const config = Object.entries(message.loss_fn_config);
    return {
      body: {
        model_id: message.model_id,
        seq_id: message.seq_id,
        forward_backward_input: { data, loss_fn: message.loss_fn, loss_fn_config: config.length ? Object.fromEntries(config) : null },
      },
      forwardOnly: message.forward_only,
    };
  }

  /** A sample future's result in its JSON shape; a prompt logprob sent as NaN (none, the first token) becomes null. */
  decodeSampleResponse(bytes: Uint8Array): SampleResult {
    const message = this.decode(this.sampleResponse, bytes) as unknown as {
      sequences: { stop_reason: number; tokens: Uint8Array; logprobs?: Uint8Array }[];
      prompt_logprobs?: Uint8Array;
    };
    const sequences = message.sequences.map((sequence, i) => {
      const stopReason = STOP_REASONS[sequence.stop_reason];
      if (!stopReason) throw badProto(`sequences[${i}]: unknown stop_reason ${sequence.stop_reason}`);
      const tokens = int32Values(sequence.tokens);
      return { tokens, logprobs: sequence.logprobs ? float32Values(sequence.logprobs) : null, stop_reason: stopReason };
    });
    const result: SampleResult = { sequences };
    if (message.prompt_logprobs) result.prompt_logprobs = float32Values(message.prompt_logprobs).map((v) => (Number.isNaN(v) ? null : v));
    return result;
  }

  encodeSampleResponse(result: SampleResult): Uint8Array {
    const message = {
      sequences: result.sequences.map((sequence) => ({
        ...(sequence.stop_reason === "length" ? { stop_reason: 1 } : {}),
        tokens: int32Bytes(sequence.tokens),
        ...(sequence.logprobs != null ? { logprobs: float32Bytes(sequence.logprobs) } : {}),
      })),
      ...(result.prompt_logprobs != null ? { prompt_logprobs: float32Bytes(result.prompt_logprobs.map((v) => v ?? Number.NaN)) } : {}),
    };
    return plain(this.sampleResponse.encode(this.sampleResponse.create(message)).finish());
  }

  /**
   * A forward/forward_backward result in its JSON shape. Each ArrayRecord holds, per output name, every datum's array
   * end to end with byte offsets; bfloat16 widens to float32 and int32 to int64, as the SDK reads them.
   */
  decodeForwardBackwardOutput(bytes: Uint8Array): ForwardBackwardOutput {
    const message = this.decode(this.output, bytes) as unknown as {
      loss_fn_output_type: string;
      loss_fn_outputs: { fields: Record<string, ProtoBatchedTensor>; num_datums: number | { toNumber(): number } }[];
      metrics: Record<string, number>;
    };
    const perField = new Map<string, TensorData[]>();
    let datums = 0;
    for (const record of message.loss_fn_outputs) {
      datums += Number(record.num_datums);
      for (const [name, batched] of Object.entries(record.fields)) {
        const list = perField.get(name) ?? [];
        list.push(...splitBatched(batched, name));
        perField.set(name, list);
      }
    }
    if (datums === 0 && perField.size > 0) datums = perField.values().next().value!.length;
    for (const [name, list] of perField) {
      if (list.length !== datums) throw badProto(`loss_fn_outputs.${name}: ${list.length} arrays for ${datums} datums`);
    }
    const outputs = Array.from({ length: datums }, (_, i) => Object.fromEntries([...perField].map(([name, list]) => [name, list[i]])));
    return {
      loss_fn_output_type: message.loss_fn_outputs.length ? message.loss_fn_output_type.split(":").pop() : message.loss_fn_output_type || "ArrayRecord",
      loss_fn_outputs: outputs,
      metrics: { ...message.metrics },
    };
  }

  /** One ArrayRecord holding every datum's outputs (each datum names the same outputs, as our trainer gives them). */
  encodeForwardBackwardOutput(output: ForwardBackwardOutput): Uint8Array {
    const outputs = output.loss_fn_outputs;
    const names = outputs.length ? Object.keys(outputs[0]).sort() : [];
    const fields = Object.fromEntries(
      names.map((name) => {
        const dtype = outputs[0][name].dtype ?? "float32";
        const parts = outputs.map((o) => (dtype === "int64" ? int64Bytes(o[name].data) : float32Bytes(o[name].data)));
        const offsets = [0];
        for (const part of parts) offsets.push(offsets[offsets.length - 1] + part.length);
        return [name, { data: concat(parts), offsets: int64Bytes(offsets), dtype: DTYPE[dtype] }];
      }),
    );
    const message = {
      loss_fn_output_type: output.loss_fn_output_type ?? "ArrayRecord",
      loss_fn_outputs: [{ fields, num_datums: outputs.length }],
      metrics: Object.fromEntries(sortedEntries(output.metrics)),
    };
    return plain(this.output.encode(this.output.create(message)).finish());
  }

  private decode(type: Protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
    let message: Protobuf.Message;
    try {
      message = type.decode(bytes);
    } catch (error) {
      throw badProto(`not a ${type.name} (${(error as Error).message})`);
    }
    // numbers for int64 fields, every field present (proto3 leaves defaults off the wire); bytes stay Uint8Array
    return type.toObject(message, { longs: Number, defaults: true, arrays: true, objects: true }) as Record<string, unknown>;
  }
}

interface ProtoTensor {
  dense?: Uint8Array;
  sparse_csr?: unknown;
  dtype: number;
  shape: number[];
}

interface ProtoBatchedTensor {
  data: Uint8Array;
  offsets: Uint8Array;
  dtype: number;
  trailing_shape: number[];
}

function badProto(message: string) {
  return trainerError("TRAINER_BAD_RESPONSE", `protobuf: ${message}`);
}

function sortedEntries<T>(record: Record<string, T>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A tensor's dtype where the request names none: token ids are integers, every other input is float32. */
function tensorMessage(name: string, tensor: TensorData) {
  const dtype = tensor.dtype ?? (name === "target_tokens" ? "int64" : "float32");
  return {
    dense: dtype === "int64" ? int64Bytes(tensor.data) : float32Bytes(tensor.data),
    dtype: DTYPE[dtype],
    shape: tensor.shape ?? [tensor.data.length],
  };
}

function tensorData(tensor: ProtoTensor, where: string): TensorData {
  if (!tensor.dense) throw badProto(`${where}: only dense tensors are read`);
  if (tensor.dtype === DTYPE.int64) return { data: int64Values(tensor.dense), dtype: "int64", shape: tensor.shape };
  if (tensor.dtype === DTYPE.float32) return { data: float32Values(tensor.dense), dtype: "float32", shape: tensor.shape };
  throw badProto(`${where}: dtype ${tensor.dtype} is neither float32 nor int64`);
}

function splitBatched(batched: ProtoBatchedTensor, name: string): TensorData[] {
  const itemSize = { [DTYPE.float32]: 4, [DTYPE.int64]: 8, [DTYPE.int32]: 4, [DTYPE.bfloat16]: 2 }[batched.dtype];
  if (!itemSize) throw badProto(`loss_fn_outputs.${name}: unknown dtype ${batched.dtype}`);
  const offsets = int64Values(batched.offsets);
  const trailing = batched.trailing_shape.reduce((a, b) => a * b, 1);
  const out: TensorData[] = [];
  for (let i = 0; i + 1 < offsets.length; i++) {
    const [start, end] = [offsets[i], offsets[i + 1]];
    if (start > end || end > batched.data.length || (end - start) % itemSize !== 0) {
      throw badProto(`loss_fn_outputs.${name}: offsets ${start}..${end} do not fit ${batched.data.length} bytes of ${itemSize}-byte items`);
    }
    const part = batched.data.subarray(start, end);
    let data: number[];
    if (batched.dtype === DTYPE.float32) data = float32Values(part);
    else if (batched.dtype === DTYPE.int32) data = int32Values(part);
    else if (batched.dtype === DTYPE.int64) data = int64Values(part);
    else data = Array.from(typed(part, Uint16Array), (bits) => new Float32Array(new Uint32Array([bits << 16]).buffer)[0]);
    const dtype = batched.dtype === DTYPE.int64 || batched.dtype === DTYPE.int32 ? "int64" : "float32";
    out.push({ data, dtype, shape: [trailing ? data.length / trailing : 0, ...batched.trailing_shape] });
  }
  return out;
}

// ----- raw little-endian arrays ----------------------------------------------------------------------------------------

type TypedArrayClass<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** A typed view of `bytes`; copied first when the view would be misaligned (protobufjs hands out slices of its input). */
function typed<T>(bytes: Uint8Array, kind: TypedArrayClass<T>): T {
  if (bytes.length % kind.BYTES_PER_ELEMENT !== 0) throw badProto(`${bytes.length} bytes is no whole number of ${kind.BYTES_PER_ELEMENT}-byte items`);
  const aligned = bytes.byteOffset % kind.BYTES_PER_ELEMENT === 0 ? bytes : new Uint8Array(bytes);
  return new kind(aligned.buffer, aligned.byteOffset, aligned.length / kind.BYTES_PER_ELEMENT);
}

const int32Values = (bytes: Uint8Array) => Array.from(typed(bytes, Int32Array));
const float32Values = (bytes: Uint8Array) => Array.from(typed(bytes, Float32Array));
const int64Values = (bytes: Uint8Array) => Array.from(typed(bytes, BigInt64Array), Number);

const asBytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
const int32Bytes = (values: number[]) => asBytes(Int32Array.from(values));
const float32Bytes = (values: number[]) => asBytes(Float32Array.from(values));
const int64Bytes = (values: number[]) => asBytes(BigInt64Array.from(values, (v) => BigInt(v)));

/** protobufjs writes a Buffer in Node: hand out a plain Uint8Array over the same bytes. */
const plain = (bytes: Uint8Array) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
