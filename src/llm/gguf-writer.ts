// A GGUF (version 3, little endian) writer: enough of the format to hand llama.cpp a model we generated ourselves.
// Layout: magic "GGUF", version, tensor count, metadata count, the metadata key/values, the tensor infos, padding to
// the alignment, then each tensor's data at its own aligned offset. Tensor dims are written innermost first (ggml's
// `ne`), so a PyTorch weight of shape [out, in] is written as [in, out] with the same bytes.
import { closeSync, openSync, writeSync } from "node:fs";
import { float32ToFloat16Bits } from "./float16.js";

const valueTypeIds = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9,
  uint64: 10, int64: 11, float64: 12,
} as const;

type ScalarType = "uint32" | "int32" | "float32" | "bool" | "string" | "uint64";
export type GgufValue =
  | { type: "uint32" | "int32" | "float32"; value: number }
  | { type: "uint64"; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: "string"; value: string[] }
  | { type: "array"; itemType: "uint32" | "int32" | "float32"; value: number[] };

/** Shorthands for metadata values. */
export const gguf = {
  u32: (value: number): GgufValue => ({ type: "uint32", value }),
  i32: (value: number): GgufValue => ({ type: "int32", value }),
  f32: (value: number): GgufValue => ({ type: "float32", value }),
  u64: (value: number): GgufValue => ({ type: "uint64", value: BigInt(value) }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  str: (value: string): GgufValue => ({ type: "string", value }),
  strings: (value: string[]): GgufValue => ({ type: "array", itemType: "string", value }),
  i32s: (value: number[]): GgufValue => ({ type: "array", itemType: "int32", value }),
  f32s: (value: number[]): GgufValue => ({ type: "array", itemType: "float32", value }),
};

export type GgufTensorType = "f32" | "f16";
const tensorTypeIds: Record<GgufTensorType, number> = { f32: 0, f16: 1 };
const bytesPerElement: Record<GgufTensorType, number> = { f32: 4, f16: 2 };

export interface GgufTensor {
  name: string;
  /** PyTorch order, outermost dimension first (e.g. [out_features, in_features]). */
  shape: number[];
  type: GgufTensorType;
  /** Produces the values when the writer reaches this tensor, so a large model is never held in memory whole. */
  values: () => Float32Array;
}

/** Accumulates little-endian bytes for the header. */
class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;
  push(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.length += buffer.length;
  }
  u32(value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.push(b);
  }
  u64(value: bigint | number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.push(b);
  }
  string(value: string): void {
    const bytes = Buffer.from(value, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }
  scalar(type: ScalarType | "int32" | "float32", value: number | bigint | boolean | string): void {
    const b = Buffer.alloc(type === "uint64" ? 8 : type === "bool" ? 1 : 4);
    if (type === "uint32") b.writeUInt32LE(value as number);
    else if (type === "int32") b.writeInt32LE(value as number);
    else if (type === "float32") b.writeFloatLE(value as number);
    else if (type === "uint64") b.writeBigUInt64LE(value as bigint);
    else if (type === "bool") b.writeUInt8(value ? 1 : 0);
    else return this.string(value as string);
    this.push(b);
  }
  value(value: GgufValue): void {
    this.u32(valueTypeIds[value.type]);
    if (value.type === "array") {
      this.u32(valueTypeIds[value.itemType]);
      this.u64(value.value.length);
      for (const item of value.value) this.scalar(value.itemType, item);
    } else {
      this.scalar(value.type, value.value);
    }
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const alignUp = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;

function encodeTensor(tensor: GgufTensor): Buffer {
  const values = tensor.values();
  const expected = tensor.shape.reduce((a, b) => a * b, 1);
  if (values.length !== expected) {
    throw new Error(`tensor ${tensor.name}: shape [${tensor.shape}] needs ${expected} values, got ${values.length}`);
  }
  if (tensor.type === "f32") return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const half = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) half[i] = float32ToFloat16Bits(values[i]);
  return Buffer.from(half.buffer);
}

/** Writes a GGUF v3 file. `general.alignment` is written when `alignment` is not the default 32. */
export function writeGguf(path: string, metadata: Record<string, GgufValue>, tensors: GgufTensor[], alignment = 32): void {
  const kv = { ...metadata };
  if (alignment !== 32) kv["general.alignment"] = gguf.u32(alignment);

  const header = new ByteSink();
  header.push(Buffer.from("GGUF", "ascii"));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(Object.keys(kv).length);
  for (const [key, value] of Object.entries(kv)) {
    header.string(key);
    header.value(value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    header.string(tensor.name);
    header.u32(tensor.shape.length);
    for (const dim of [...tensor.shape].reverse()) header.u64(dim);
    header.u32(tensorTypeIds[tensor.type]);
    header.u64(offset);
    const size = tensor.shape.reduce((a, b) => a * b, 1) * bytesPerElement[tensor.type];
    offset = alignUp(offset + size, alignment);
  }

  const fd = openSync(path, "w");
  try {
    const head = header.concat();
    writeSync(fd, head);
    writeSync(fd, Buffer.alloc(alignUp(head.length, alignment) - head.length));
    for (const tensor of tensors) {
      const data = encodeTensor(tensor);
      writeSync(fd, data);
      writeSync(fd, Buffer.alloc(alignUp(data.length, alignment) - data.length));
    }
  } finally {
    closeSync(fd);
  }
}
