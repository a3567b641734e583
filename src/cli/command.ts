import { parseArgs, type ParseArgsConfig } from "node:util";
import { EvolverError } from "../core/errors.js";

/** One CLI subcommand, as its module exports it. */
export interface Command {
  usage: string;
  /** Returns the exit code. */
  run(argv: string[]): Promise<number>;
}

/** A row of the command table: what selects it and what help lists, and how to load it when it runs. */
export interface CommandEntry {
  /** The words that select it, e.g. ["env", "replay"]. */
  path: string[];
  summary: string;
  load(): Promise<Command>;
}

/** node:util parseArgs, with unknown options and bad values reported as a usage error instead of a stack trace. */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  usage: string,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new EvolverError("CLI_USAGE", `${(error as Error).message}\nusage: ${usage}`);
  }
}

/** Parses a numeric option, naming it when the value is not a number. */
export function numberOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new EvolverError("CLI_USAGE", `--${name} must be a number, got '${value}'`);
  return parsed;
}

/** Resolves with the signal's name at the first SIGINT or SIGTERM: how a long-running server command waits. */
export function waitForStopSignal(): Promise<string> {
  return new Promise<string>((resolve) => {
    const stop = (name: string) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(name);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
