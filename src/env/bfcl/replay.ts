// Replays ground-truth calls turn by turn and writes the data README's vector format, so our backends can be
// checked against the vectors BFCL's own Python executor produced: result strings byte for byte, states by value.
import { readFileSync, writeFileSync } from "node:fs";
import { EvolverError } from "../../core/errors.js";
import { loadBfclGroundTruth, parseJsonLine, BFCL_CATEGORIES, type BfclCategoryName } from "./data.js";
import { BfclExecution, bfclCategory, type BfclEntrySetup, type BfclExecutionOptions } from "./executor.js";
import { pyJsonDumps } from "./python/repr.js";
import { PyFloat, PyMpf, PyTuple, deepCopy, isPyDict, type PyDict, type PyValue } from "./python/value.js";

export interface BfclVectorCall {
  call: string;
  result: string;
}

export interface BfclVectorTurn {
  calls: BfclVectorCall[];
  state: Record<string, PyDict>;
}

export interface BfclVector extends BfclEntrySetup {
  turns: BfclVectorTurn[];
}

/** A vector line, or a question entry whose calls come from the ground truth. */
export type BfclReplayInput = BfclEntrySetup & { turns?: { calls: { call: string }[] }[] };

export interface BfclReplayOptions extends BfclExecutionOptions {
  dataDir?: string;
}

/** Executes the given calls, turn by turn, in a fresh execution, recording results and the state after each turn. */
export function replayEntry(setup: BfclEntrySetup, turns: string[][], options: BfclExecutionOptions = {}): BfclVector {
  const execution = new BfclExecution(setup, options);
  const recorded: BfclVectorTurn[] = turns.map((calls) => ({
    calls: calls.map((call) => ({ call, result: execution.executeText(call) })),
    // state() hands out live objects; later turns mutate them.
    state: deepCopy(execution.state()),
  }));
  return { id: setup.id, involved_classes: setup.involved_classes, initial_config: setup.initial_config, turns: recorded };
}

/** The calls of an input: its `turns[].calls[].call`, or the ground truth of its id. */
export function replayCalls(entry: BfclReplayInput, dataDir?: string): string[][] {
  if (entry.turns) return entry.turns.map((turn) => turn.calls.map((c) => c.call));
  const category = bfclCategory(entry.id).replace(/^multi_turn_/, "");
  if (!(BFCL_CATEGORIES as readonly string[]).includes(category)) {
    throw new EvolverError("BFCL_UNKNOWN_CATEGORY", `entry ${entry.id}: no ground truth for category '${category}'`);
  }
  const truth = loadBfclGroundTruth(category as BfclCategoryName, dataDir).get(entry.id);
  if (!truth) throw new EvolverError("BFCL_UNKNOWN_TASK", `entry ${entry.id}: not in the possible answers`);
  return truth;
}

export function replayVectors(entries: BfclReplayInput[], options: BfclReplayOptions = {}): BfclVector[] {
  return entries.map((entry) => replayEntry(entry, replayCalls(entry, options.dataDir), options));
}

/**
 * replayEntry and serializeVector in one pass, giving the same bytes: each turn's state is written out as soon as the
 * turn has run, so it needs no copy (what `evolver env replay` does with question entries, where nothing compares).
 */
export function replayEntryLine(setup: BfclEntrySetup, turns: string[][], options: BfclExecutionOptions = {}): { line: string; calls: number } {
  const execution = new BfclExecution(setup, options);
  const dump = (value: PyValue) => pyJsonDumps(value, VECTOR_JSON);
  let calls = 0;
  const written = turns.map((turnCalls) => {
    const recorded = turnCalls.map((call) => ({ call, result: execution.executeText(call) }));
    calls += recorded.length;
    return `{"calls":${dump(recorded as unknown as PyValue)},"state":${dump(execution.state() as PyDict)}}`;
  });
  const head = `{"id":${dump(setup.id)},"involved_classes":${dump(setup.involved_classes)},"initial_config":${dump(setup.initial_config)}`;
  return { line: `${head},"turns":[${written.join(",")}]}`, calls };
}

// The README's serialisation: compact separators, non-ASCII kept, a set (MessageAPI.generated_ids) as a sorted list.
const VECTOR_JSON = { compact: true, ensureAscii: false, setsAsSortedLists: true } as const;

/** One line of a vector file as Python wrote it: compact separators, non-ASCII kept, floats in repr. */
export function serializeVector(vector: BfclVector): string {
  const ordered: PyDict = {
    id: vector.id,
    involved_classes: vector.involved_classes,
    initial_config: vector.initial_config,
    turns: vector.turns.map((turn) => ({ calls: turn.calls.map((c) => ({ call: c.call, result: c.result })), state: turn.state })),
  } as unknown as PyDict;
  return pyJsonDumps(ordered, VECTOR_JSON);
}

export interface BfclReplayFileResult {
  entries: number;
  calls: number;
  /** For vector input: the entries whose replay departs from the input's results or states. */
  mismatches: BfclVectorMismatch[];
}

/** Reads vector lines or question entries from `inPath`, replays them, writes vector lines to `outPath`. */
export function replayVectorFile(inPath: string, outPath: string, options: BfclReplayOptions = {}): BfclReplayFileResult {
  let text: string;
  try {
    text = readFileSync(inPath, "utf8");
  } catch (error) {
    throw new EvolverError("BFCL_DATA_MISSING", `cannot read ${inPath}: ${(error as Error).message}`, { cause: error });
  }
  // Each line is parsed when its turn comes, and its vector line is encoded as soon as it is written: a line's text is
  // a rope of many small strings, and neither it nor the parsed entry lives on to be copied by every young-generation
  // collection until the end (they were a large part of a one-category process's time). The file is still written
  // once, at the end, so a failing entry leaves no partial output.
  const written: Buffer[] = [];
  const mismatches: BfclVectorMismatch[] = [];
  let entries = 0;
  let calls = 0;
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    if (lines[n].trim() === "") continue;
    const where = `${inPath}:${n + 1}`;
    const entry = checkReplayInput(parseJsonLine(lines[n], inPath, n + 1), where);
    entries += 1;
    const compare = entry.turns?.every((turn) => turn.calls.every((c) => typeof (c as { result?: unknown }).result === "string")) ?? false;
    let line: string;
    try {
      if (compare) {
        const vector = replayEntry(entry, replayCalls(entry, options.dataDir), options);
        calls += vector.turns.reduce((count, turn) => count + turn.calls.length, 0);
        const mismatch = compareVector(entry as BfclVector, vector);
        if (mismatch) mismatches.push(mismatch);
        line = serializeVector(vector);
      } else {
        const replayed = replayEntryLine(entry, replayCalls(entry, options.dataDir), options);
        calls += replayed.calls;
        line = replayed.line;
      }
    } catch (error) {
      const message = (error as Error).message;
      // the executor's own errors already name the entry
      const named = message.startsWith(`entry ${entry.id}:`) ? message : `entry ${entry.id}: ${message}`;
      throw new EvolverError("BFCL_REPLAY_FAILED", `${where}: ${named}`, { cause: error });
    }
    written.push(Buffer.from(`${line}\n`));
  }
  writeFileSync(outPath, Buffer.concat(written));
  return { entries, calls, mismatches };
}

function checkReplayInput(row: unknown, where: string): BfclReplayInput {
  const entry = row as Partial<BfclReplayInput>;
  const problem =
    !isPyDict(row as PyValue) ? "expected a JSON object"
    : typeof entry.id !== "string" ? "missing string 'id'"
    : !Array.isArray(entry.involved_classes) ? "missing list 'involved_classes'"
    : !isPyDict(entry.initial_config as PyValue) ? "missing object 'initial_config'"
    : entry.turns !== undefined && !(Array.isArray(entry.turns) && entry.turns.every((t) => Array.isArray(t?.calls) && t.calls.every((c) => typeof c?.call === "string")))
      ? "'turns' must be a list of {calls: [{call: string}]}"
      : undefined;
  if (problem) throw new EvolverError("BFCL_BAD_INPUT", `${where}: ${problem}`);
  return entry as BfclReplayInput;
}

// ---- comparison ----

function ascending(x: number | string, y: number | string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Where two values first differ (a dotted path), or undefined when equal as the README defines it for states:
 * objects ignore key order, arrays keep order, numbers compare by value (int 10 equals float 10.0). */
export function firstDifference(expected: PyValue | undefined, actual: PyValue | undefined, path = ""): string | undefined {
  const a = normalize(expected);
  const b = normalize(actual);
  if (typeof a === "number" && typeof b === "number") return a === b || (Number.isNaN(a) && Number.isNaN(b)) ? undefined : path || "(value)";
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path || "(value)"} (length ${a.length} vs ${b.length})`;
    for (let i = 0; i < a.length; i++) {
      const diff = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (diff) return diff;
    }
    return undefined;
  }
  if (isPyDict(a) && isPyDict(b)) {
    const keysA = Object.keys(a);
    const keysB = new Set(Object.keys(b));
    for (const key of keysA) {
      if (!keysB.has(key)) return `${join(path, key)} (missing)`;
      const diff = firstDifference(a[key], b[key], join(path, key));
      if (diff) return diff;
    }
    for (const key of keysB) if (!Object.hasOwn(a, key)) return `${join(path, key)} (unexpected)`;
    return undefined;
  }
  if (a instanceof PyMpf && b instanceof PyMpf) return a.text === b.text ? undefined : path || "(value)";
  return a === b ? undefined : path || "(value)";
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** The vector serialisation's view of a value: floats unboxed, tuples and sets as arrays, dict keys as strings. */
function normalize(value: PyValue | undefined): PyValue | undefined {
  if (value instanceof PyFloat) return value.value;
  if (value instanceof PyTuple) return value.items;
  if (value instanceof Set) return [...value].sort(ascending);
  if (value instanceof Map) {
    const dict: PyDict = {};
    for (const [k, v] of value) dict[String(k)] = v;
    return dict;
  }
  return value === undefined ? null : value;
}

export interface BfclVectorMismatch {
  id: string;
  turn?: number;
  call?: number;
  callText?: string;
  kind: "turn count" | "call" | "result" | "state" | "error";
  message: string;
}

function clip(text: string, max = 400): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length} chars)` : text;
}

/** The first way `actual` departs from `expected`, described for a person debugging a backend. */
export function compareVector(expected: BfclVector, actual: BfclVector): BfclVectorMismatch | undefined {
  const id = expected.id;
  if (expected.turns.length !== actual.turns.length) {
    return { id, kind: "turn count", message: `${id}: ${actual.turns.length} turns, expected ${expected.turns.length}` };
  }
  for (let t = 0; t < expected.turns.length; t++) {
    const want = expected.turns[t];
    const got = actual.turns[t];
    for (let c = 0; c < want.calls.length; c++) {
      const callText = want.calls[c].call;
      if (got.calls[c]?.call !== callText) {
        return { id, turn: t, call: c, callText, kind: "call", message: `${id} turn ${t} call ${c}: call text differs` };
      }
      if (got.calls[c].result !== want.calls[c].result) {
        return {
          id,
          turn: t,
          call: c,
          callText,
          kind: "result",
          message: `${id} turn ${t} call ${c} ${callText}\n  expected: ${clip(want.calls[c].result)}\n  actual:   ${clip(got.calls[c].result)}`,
        };
      }
    }
    const diff = firstDifference(want.state as PyDict, got.state as PyDict);
    if (diff) {
      const expectedText = clip(safeJson(pick(want.state, diff)));
      const actualText = clip(safeJson(pick(got.state, diff)));
      return { id, turn: t, kind: "state", message: `${id} turn ${t} state differs at ${diff}\n  expected: ${expectedText}\n  actual:   ${actualText}` };
    }
  }
  return undefined;
}

/** The value at a dotted path such as `TwitterAPI.tweets.3.content` or `a.b[2]` (best effort, for messages). */
function pick(root: Record<string, PyDict>, path: string): PyValue | undefined {
  let value: PyValue | undefined = root as unknown as PyValue;
  for (const part of path.replace(/ \(.*\)$/, "").split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "")) {
    const current = normalize(value);
    if (Array.isArray(current)) value = current[Number(part)];
    else if (isPyDict(current)) value = current[part];
    else return value;
  }
  return value;
}

function safeJson(value: PyValue | undefined): string {
  try {
    return pyJsonDumps(value ?? null, { compact: true, ensureAscii: false });
  } catch {
    return String(value);
  }
}
