// BFCL vector replay in-process: all 400 dev entries (parse the vector line, execute every ground-truth call with
// our backends, snapshot the states, serialise the vector) against a plain JSON.parse + JSON.stringify pass over
// the same lines. Goal: the whole dev set well under a few seconds.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BFCL_CATEGORIES, replayCalls, replayEntry, resolveBfclDataDir, serializeVector, type BfclVector } from "../src/env/index.js";
import { parsePythonJson } from "../src/env/bfcl/python/json.js";
import type { BenchResult } from "./result.js";

function loadLines(): string[] {
  const dir = join(resolveBfclDataDir(), "vectors");
  return BFCL_CATEGORIES.flatMap((category) =>
    readFileSync(join(dir, `multi_turn_${category}.vectors.jsonl`), "utf8").split("\n").filter((line) => line.trim() !== ""),
  );
}

/** Best of `rounds` timings of fn, in milliseconds (the least disturbed run). */
function best(rounds: number, fn: () => void): number {
  let fastest = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    fn();
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest;
}

export async function run(options: { quick: boolean }): Promise<BenchResult[]> {
  const lines = loadLines();
  let calls = 0;
  const replayAll = () => {
    calls = 0;
    for (const line of lines) {
      const input = parsePythonJson(line) as unknown as BfclVector;
      const vector = replayEntry(input, replayCalls(input));
      for (const turn of vector.turns) calls += turn.calls.length;
      serializeVector(vector);
    }
  };
  const baselineAll = () => {
    for (const line of lines) JSON.stringify(JSON.parse(line));
  };
  replayAll(); // warm-up: JIT and the long-context constants
  baselineAll();
  const rounds = options.quick ? 2 : 5;
  const replayMs = best(rounds, replayAll);
  const baselineMs = best(rounds, baselineAll);
  const seconds = replayMs / 1000;
  return [
    {
      name: `replay ${lines.length} BFCL dev entries`,
      value: seconds,
      unit: "s",
      baseline: { name: "JSON.parse+stringify of the same lines", value: baselineMs / 1000 },
      ratio: replayMs / baselineMs,
      goal: "< 3 s for the 400 dev entries",
      ok: seconds < 3,
    },
    { name: "replay entries/s", value: lines.length / seconds, unit: "entries/s" },
    { name: "replay steps/s (calls)", value: calls / seconds, unit: "calls/s" },
  ];
}
