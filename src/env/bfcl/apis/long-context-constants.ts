// The long-context filler constants (upstream long_context.py), parsed once per process and shared. The
// backends hand these objects out inside results without copying, so nothing may mutate them.
import { readFileSync } from "node:fs";
import { parsePythonJson } from "../python/json.js";
import type { PyDict } from "../python/value.js";

let cached: PyDict | undefined;

export function longContextConstants(): PyDict {
  if (!cached) {
    const url = new URL("../../../../../shared/data/bfcl-v3/long_context.json", import.meta.url);
    cached = parsePythonJson(readFileSync(url, "utf8")) as PyDict;
  }
  return cached;
}
