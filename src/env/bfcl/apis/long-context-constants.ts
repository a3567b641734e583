// The long-context filler constants (upstream long_context.py), through the data loader's one parsed copy. The
// backends hand these objects out inside results without copying, so nothing may mutate them.
import { loadBfclLongContext } from "../data.js";
import type { PyDict } from "../python/value.js";

export function longContextConstants(): PyDict {
  return loadBfclLongContext();
}
