// Tool schemas as vectors, embedded once. An environment with thousands of APIs offers the same tools to every
// episode, and the offline embedder manages some tens of texts per second on a loaded CPU, so every vector is kept:
// in memory for the process, and on disk (one append-only file per embedder) for the next process. A record is the
// SHA-256 of the tool's text and its vector; a tool whose name, description or parameters change is a new text and
// is embedded afresh. A torn last record (two writers, a killed process) is ignored on reading.
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ToolSchema } from "../../core/messages.js";
import type { Embedder } from "../../llm/embedding-types.js";

const HASH_BYTES = 32;
const CHUNK = 256;

/**
 * What is embedded for a tool: its name (also as words), description and parameter names. A description in BFCL's
 * convention ("This tool belongs to the X API, which ... Tool description: ...") keeps only the part after
 * "Tool description:": the API's preamble is the same for all of its tools and outweighs what tells them apart.
 */
export function toolText(tool: ToolSchema): string {
  const { name, description, parameters } = tool.function;
  const properties = (parameters as { properties?: Record<string, unknown> }).properties ?? {};
  const params = Object.keys(properties);
  const words = name.replace(/[_\-.]+/g, " ").trim();
  const marker = description.lastIndexOf(TOOL_DESCRIPTION_MARKER);
  const own = (marker >= 0 ? description.slice(marker + TOOL_DESCRIPTION_MARKER.length) : description).trim();
  return `${words} (${name}): ${own}${params.length > 0 ? ` Parameters: ${params.join(", ")}.` : ""}`;
}

const TOOL_DESCRIPTION_MARKER = "Tool description:";

export interface ToolEmbeddingsOptions {
  embedder: Embedder;
  /** Folder of the disk cache; undefined keeps vectors in memory only. */
  cacheDir?: string;
}

export class ToolEmbeddings {
  readonly embedder: Embedder;
  private readonly vectors = new Map<string, Float32Array>();
  private readonly byTool = new WeakMap<ToolSchema, Float32Array>();
  private readonly file?: string;
  /** Texts being embedded now, so two episodes starting together embed each text once. */
  private pending = new Map<string, Promise<Float32Array>>();

  constructor(options: ToolEmbeddingsOptions) {
    this.embedder = options.embedder;
    if (options.cacheDir !== undefined) {
      mkdirSync(options.cacheDir, { recursive: true });
      this.file = join(options.cacheDir, `tool-embeddings-${options.embedder.id.replace(/[^A-Za-z0-9._-]+/g, "_")}-${options.embedder.dimensions}.bin`);
      this.readFile();
    }
  }

  /** How many vectors are known (memory and disk). */
  get size(): number {
    return this.vectors.size;
  }

  /** One vector per tool, in order; only tools never seen before are embedded. */
  async vectorsOf(tools: readonly ToolSchema[], signal?: AbortSignal): Promise<Float32Array[]> {
    const result: (Float32Array | undefined)[] = tools.map((tool) => this.byTool.get(tool));
    const missing = new Map<string, number[]>();
    const waiting: Promise<void>[] = [];
    result.forEach((vector, index) => {
      if (vector) return;
      const key = textKey(toolText(tools[index]));
      const known = this.vectors.get(key);
      if (known) result[index] = known;
      else if (this.pending.has(key)) waiting.push(this.pending.get(key)!.then((v) => void (result[index] = v)));
      else missing.set(key, [...(missing.get(key) ?? []), index]);
    });
    // In chunks, each written to disk as it is done: embedding 10,000 tools takes minutes, and an interrupted run
    // keeps what it paid for.
    const allKeys = [...missing.keys()];
    for (let start = 0; start < allKeys.length; start += CHUNK) {
      const keys = allKeys.slice(start, start + CHUNK);
      const texts = keys.map((key) => toolText(tools[missing.get(key)![0]]));
      const batch = this.embedder.embed(texts, { signal });
      keys.forEach((key, i) => {
        const one = batch.then((vectors) => vectors[i]);
        one.catch(() => undefined); // the error reaches the caller through `batch`; waiters see it too
        this.pending.set(key, one);
      });
      try {
        const vectors = await batch;
        keys.forEach((key, i) => {
          this.vectors.set(key, vectors[i]);
          for (const index of missing.get(key)!) result[index] = vectors[i];
        });
        this.appendFile(keys, vectors);
      } finally {
        for (const key of keys) this.pending.delete(key);
      }
    }
    await Promise.all(waiting);
    return result.map((vector, index) => {
      this.byTool.set(tools[index], vector!);
      return vector!;
    });
  }

  private readFile(): void {
    let data: Buffer;
    try {
      data = readFileSync(this.file!);
    } catch {
      return;
    }
    const recordBytes = HASH_BYTES + 4 * this.embedder.dimensions;
    for (let offset = 0; offset + recordBytes <= data.length; offset += recordBytes) {
      const key = data.subarray(offset, offset + HASH_BYTES).toString("hex");
      const vector = new Float32Array(this.embedder.dimensions);
      for (let i = 0; i < vector.length; i++) vector[i] = data.readFloatLE(offset + HASH_BYTES + 4 * i);
      this.vectors.set(key, vector);
    }
  }

  private appendFile(keys: string[], vectors: Float32Array[]): void {
    if (this.file === undefined) return;
    const recordBytes = HASH_BYTES + 4 * this.embedder.dimensions;
    const buffer = Buffer.alloc(keys.length * recordBytes);
    keys.forEach((key, r) => {
      Buffer.from(key, "hex").copy(buffer, r * recordBytes);
      vectors[r].forEach((x, i) => buffer.writeFloatLE(x, r * recordBytes + HASH_BYTES + 4 * i));
    });
    // A cache that cannot be written costs time next run, not correctness.
    try {
      appendFileSync(this.file, buffer);
    } catch {
      /* read-only folder */
    }
  }
}

function textKey(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
