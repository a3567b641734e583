// Trajectories as JSON Lines: appended one by one while a batch runs (a crash loses at most the line being
// written), read back as a stream so a large file never has to fit in memory at once.
import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { z } from "zod";
import { EvolverError } from "../core/errors.js";

export class JsonlWriter {
  private pending: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly stream: WriteStream,
  ) {}

  /** Opens `path` for appending (creating its folder), or truncates it first with `{ append: false }`. */
  static open(path: string, options: { append?: boolean } = {}): JsonlWriter {
    mkdirSync(dirname(path), { recursive: true });
    return new JsonlWriter(path, createWriteStream(path, { flags: options.append === false ? "w" : "a" }));
  }

  /** Appends one value as one line. Writes happen in call order; the promise settles when the line is handed to the OS. */
  write(value: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new EvolverError("AGENT_JSONL_CLOSED", `${this.path} is closed`));
    const line = `${JSON.stringify(value)}\n`;
    this.pending = this.pending.then(
      () =>
        new Promise<void>((resolve, reject) => {
          this.stream.write(line, (error) => (error ? reject(error) : resolve()));
        }),
    );
    return this.pending;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pending.catch(() => undefined);
    await new Promise<void>((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

/** Reads a JSONL file line by line, checking each value against `schema` when given; blank lines are skipped. */
export async function* readJsonl<T = unknown>(path: string, schema?: z.ZodType<T>): AsyncGenerator<T> {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new EvolverError("AGENT_BAD_JSONL", `${path}:${number}: not JSON (${(error as Error).message})`, { details: { path, line: number } });
    }
    if (!schema) {
      yield value as T;
      continue;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
      throw new EvolverError("AGENT_BAD_JSONL", `${path}:${number}: ${problems}`, { details: { path, line: number } });
    }
    yield parsed.data;
  }
}
