// The BFCL v3 multi-turn data on disk: questions, ground truth, function docs and the long-context constants.
// Everything that can hold a float goes through parsePythonJson, so `10.0` stays a float as it does in Python.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EvolverError } from "../../core/errors.js";
import type { ToolSchema } from "../../core/messages.js";
import { parsePythonJson } from "./python/json.js";
import { isPyDict, type PyDict, type PyValue } from "./python/value.js";

export const BFCL_CATEGORIES = ["base", "miss_func", "miss_param", "long_context"] as const;
export type BfclCategoryName = (typeof BFCL_CATEGORIES)[number];

/** Function-doc file stem → Python class, as the data README lists them. */
export const BFCL_DOC_FILES: Readonly<Record<string, string>> = {
  gorilla_file_system: "GorillaFileSystem",
  math_api: "MathAPI",
  message_api: "MessageAPI",
  posting_api: "TwitterAPI",
  ticket_api: "TicketAPI",
  trading_bot: "TradingBot",
  travel_booking: "TravelAPI",
  vehicle_control: "VehicleControlAPI",
};

export interface BfclQuestionEntry {
  id: string;
  question: { role: string; content: string }[][];
  initial_config: PyDict;
  path: string[];
  involved_classes: string[];
  /** miss_func only: turn index (as a string) → the function names held back until that turn. */
  missed_function?: Record<string, string[]>;
}

export interface BfclFuncDoc {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  response?: Record<string, unknown>;
}

/** The package root: the nearest folder above this file whose package.json is Evolver's (works from src/ and dist/). */
let root: string | undefined;

function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "evolver") return (root = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new EvolverError("BFCL_DATA_MISSING", "cannot find Evolver's package root to locate the BFCL data");
    dir = parent;
  }
}

/** `dataDir` option, else $EVOLVER_BFCL_DATA, else the copy shipped in the package, `<package root>/data/bfcl-v3` (never the cwd). */
export function resolveBfclDataDir(dataDir?: string): string {
  const dir = dataDir ?? process.env.EVOLVER_BFCL_DATA ?? join(packageRoot(), "data", "bfcl-v3");
  return resolve(dir);
}

// The loaders run for every entry (ground truth, long-context constants), so their paths are worked out once per
// data folder and environment setting rather than through path.resolve each time.
const filePaths = new Map<string, string>();

function dataFile(dataDir: string | undefined, ...parts: string[]): string {
  const key = `${dataDir}\0${process.env.EVOLVER_BFCL_DATA}\0${parts.join("/")}`;
  let path = filePaths.get(key);
  if (path === undefined) filePaths.set(key, (path = join(resolveBfclDataDir(dataDir), ...parts)));
  return path;
}

function readDataFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new EvolverError("BFCL_DATA_MISSING", `cannot read BFCL data file ${path}: ${(error as Error).message}`, {
      details: { path },
      cause: error,
    });
  }
}

/** Parses JSON Lines, naming the file and line of a bad one. */
export function parseJsonLines(text: string, path: string): unknown[] {
  const rows: unknown[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    if (lines[n].trim() !== "") rows.push(parseJsonLine(lines[n], path, n + 1));
  }
  return rows;
}

/** One line of a JSON Lines file (`lineNumber` from 1), naming the file and line when it is bad. */
export function parseJsonLine(line: string, path: string, lineNumber: number): unknown {
  try {
    return parsePythonJson(line);
  } catch (error) {
    throw new EvolverError("BFCL_BAD_JSON", `${path}:${lineNumber}: ${(error as Error).message}`, { details: { path, line: lineNumber }, cause: error });
  }
}

const cache = new Map<string, unknown>();

function cached<T>(key: string, load: () => T): T {
  if (!cache.has(key)) cache.set(key, load());
  return cache.get(key) as T;
}

function checkCategory(category: string): void {
  if (!(BFCL_CATEGORIES as readonly string[]).includes(category)) {
    throw new EvolverError("BFCL_UNKNOWN_CATEGORY", `unknown BFCL category '${category}'; known: ${BFCL_CATEGORIES.join(", ")}`);
  }
}

export function loadBfclQuestions(category: BfclCategoryName, dataDir?: string): BfclQuestionEntry[] {
  checkCategory(category);
  const path = dataFile(dataDir, `BFCL_v3_multi_turn_${category}.json`);
  return cached(`questions:${path}`, () => parseJsonLines(readDataFile(path), path) as unknown as BfclQuestionEntry[]);
}

/** Ground truth by entry id: one list of Python call strings per turn. */
export function loadBfclGroundTruth(category: BfclCategoryName, dataDir?: string): Map<string, string[][]> {
  checkCategory(category);
  const path = dataFile(dataDir, "possible_answer", `BFCL_v3_multi_turn_${category}.json`);
  return cached(`answers:${path}`, () => {
    const truth = new Map<string, string[][]>();
    const lines = readDataFile(path).split("\n");
    for (let n = 0; n < lines.length; n++) {
      if (lines[n].trim() === "") continue;
      // Ids and call strings only, where no float can be told from an int: JSON.parse reads what parsePythonJson
      // reads, natively (each one-category replay loads this file). A bad line is read again for the message.
      let row: { id: string; ground_truth: string[][] };
      try {
        row = JSON.parse(lines[n]);
      } catch {
        row = parseJsonLine(lines[n], path, n + 1) as typeof row;
      }
      truth.set(row.id, row.ground_truth);
    }
    return truth;
  });
}

/** Function docs by Python class name. */
export function loadBfclFuncDocs(dataDir?: string): Map<string, BfclFuncDoc[]> {
  const dir = dataFile(dataDir, "multi_turn_func_doc");
  return cached(`docs:${dir}`, () => {
    const docs = new Map<string, BfclFuncDoc[]>();
    for (const [stem, className] of Object.entries(BFCL_DOC_FILES)) {
      const path = join(dir, `${stem}.json`);
      const text = readDataFile(path);
      docs.set(className, text.split("\n").filter((l) => l.trim() !== "").map((line) => JSON.parse(line) as BfclFuncDoc));
    }
    return docs;
  });
}

/** The long-context constants (upstream long_context.py), parsed once. Shared: never mutate them. */
export function loadBfclLongContext(dataDir?: string): PyDict {
  const path = dataFile(dataDir, "long_context.json");
  return cached(`long:${path}`, () => {
    const value = parsePythonJson(readDataFile(path));
    if (!isPyDict(value)) throw new EvolverError("BFCL_BAD_JSON", `${path}: expected one JSON object`);
    // Frozen: the backends hand these objects out without copying, and the JSON writer reuses the text of frozen values.
    return deepFreeze(value);
  });
}

function deepFreeze<T extends PyValue>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Array.isArray(value) ? value : isPyDict(value) ? Object.values(value) : []) deepFreeze(item);
  }
  return value;
}

// BFCL's parameter types → JSON Schema types; `any` accepts any value.
const TYPE_MAP: Record<string, string | undefined> = {
  dict: "object",
  object: "object",
  float: "number",
  number: "number",
  integer: "integer",
  int: "integer",
  string: "string",
  str: "string",
  boolean: "boolean",
  bool: "boolean",
  array: "array",
  list: "array",
  tuple: "array",
  any: undefined,
};

function convertSchema(schema: unknown): Record<string, unknown> {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (key === "type" && typeof value === "string") {
      const mapped = Object.hasOwn(TYPE_MAP, value) ? TYPE_MAP[value] : value;
      if (mapped !== undefined) out.type = mapped;
    } else if (key === "properties" && typeof value === "object" && value !== null) {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, sub]) => [name, convertSchema(sub)]));
    } else if (key === "items") {
      out.items = convertSchema(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** A BFCL function doc as an OpenAI function tool (JSON Schema parameters, descriptions kept). */
export function bfclDocToTool(doc: BfclFuncDoc): ToolSchema {
  const parameters = convertSchema(doc.parameters);
  if (parameters.type === undefined) parameters.type = "object";
  if (parameters.properties === undefined) parameters.properties = {};
  return { type: "function", function: { name: doc.name, description: doc.description, parameters } };
}
