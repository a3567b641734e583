// How `evolver env replay` loads the replay code. It runs one process per category, each replaying in a fraction of a
// second, so loading is a large part of it: resolving, reading and compiling 32 ES modules, then compiling
// each function the first time it runs. `npm run build` (scripts/bundle-replay.mjs) therefore also writes the replay
// code as one CommonJS file beside this module, with V8's code cache of it taken after a replay of the packaged
// questions: the bytecode of every function the replay ran, so a process reads it instead of compiling.
// Without the bundle (running from src/, or a dist/ built by tsc alone) the ES modules load as usual. A cache that
// this Node does not accept (another V8 version or other V8 flags) is ignored by V8, and the bundle compiles as usual.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { Script } from "node:vm";
import type { replayVectorFile } from "./replay.js";

export type ReplayModule = { replayVectorFile: typeof replayVectorFile };

/** Where the build writes the bundle and its code cache (beside this module's built file). */
export const REPLAY_BUNDLE = new URL("./replay.bundle.cjs", import.meta.url);
export const REPLAY_CODE_CACHE = new URL("./replay.bundle.cjs.cache", import.meta.url);

/** The bundle's module scope, as Node's CommonJS wrapper gives it, plus the URL its `import.meta.url` became. */
const WRAPPER_PARAMS = "exports, require, module, __filename, __dirname, __bundleUrl";

/**
 * Compiles and runs a bundle (with a code cache when given); the script is returned for taking a cache of it.
 * It first turns V8's optimizing compiler (TurboFan) off for the process. Measured on a category's replay: the
 * main thread takes as long either way (about 400 ms for base), but with TurboFan the process spends another 60% of
 * CPU compiling code on other threads that the replay ends before it can use. A replay of many categories in one
 * process runs a little slower for it (warm, about 1.3x). V8 keys a code cache to its flags, so the build takes
 * the cache under the same flag.
 */
export function runReplayBundle(file: URL, source: string, cachedData?: Buffer): { exports: ReplayModule; script: Script } {
  setFlagsFromString("--no-opt");
  const path = fileURLToPath(file);
  const script = new Script(`(function (${WRAPPER_PARAMS}) {${source}\n})`, { filename: path, cachedData });
  const module = { exports: {} as ReplayModule };
  const scope = script.runInThisContext() as (...args: unknown[]) => void;
  scope(module.exports, createRequire(file), module, path, fileURLToPath(new URL(".", file)), file.href);
  return { exports: module.exports, script };
}

/** The replay code: the built bundle with its code cache when the build wrote them, else the ES modules. */
export async function loadReplay(): Promise<ReplayModule> {
  let source: string;
  try {
    source = readFileSync(REPLAY_BUNDLE, "utf8");
  } catch {
    return import("./replay.js");
  }
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(REPLAY_CODE_CACHE);
  } catch {
    cachedData = undefined;
  }
  return runReplayBundle(REPLAY_BUNDLE, source, cachedData).exports;
}
