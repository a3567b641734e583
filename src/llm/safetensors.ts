// The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
// byte range, then the raw row-major data. We write F32 only, which PyTorch and the trainer load as they are.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { llmError } from "./errors.js";

export interface SafetensorsTensor {
  name: string;
  /** Row-major, outermost dimension first (PyTorch order). */
  shape: number[];
  /** Produces the values when the writer reaches this tensor. */
  values: () => Float32Array;
}

/** Writes F32 tensors; `metadata` goes to the header's `__metadata__` (string values only, as the format asks). */
export function writeSafetensors(path: string, tensors: SafetensorsTensor[], metadata: Record<string, string> = { format: "pt" }): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    const size = tensor.shape.reduce((a, b) => a * b, 1) * 4;
    header[tensor.name] = { dtype: "F32", shape: tensor.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // keeps the data 8-byte aligned, like the reference writer
  const headerBytes = Buffer.from(json, "utf8");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));

  const fd = openSync(path, "w");
  try {
    writeSync(fd, length);
    writeSync(fd, headerBytes);
    for (const tensor of tensors) {
      const values = tensor.values();
      const expected = tensor.shape.reduce((a, b) => a * b, 1);
      if (values.length !== expected) {
        throw new Error(`tensor ${tensor.name}: shape [${tensor.shape}] needs ${expected} values, got ${values.length}`);
      }
      writeSync(fd, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}

export interface LoadedTensor {
  shape: number[];
  values: Float32Array;
}

/** Reads an F32 safetensors file whole (meant for small models and tests). */
export function readSafetensors(path: string): Map<string, LoadedTensor> {
  const file = readFileSync(path);
  const headerLength = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, unknown>;
  const dataStart = 8 + headerLength;
  const out = new Map<string, LoadedTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== "F32") throw llmError("LLM_MODEL_FORMAT", `tensor ${name} is ${dtype}; only F32 is read`);
    const bytes = file.subarray(dataStart + data_offsets[0], dataStart + data_offsets[1]);
    const values = new Float32Array(bytes.length / 4);
    Buffer.from(values.buffer).set(bytes);
    out.set(name, { shape, values });
  }
  return out;
}
