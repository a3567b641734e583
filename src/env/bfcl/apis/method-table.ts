// A compact way to write a backend's method table: the Python signature as a string ("title, description=,
// priority=": a trailing "=" marks a parameter with a default) next to the function that runs the call.
import type { PyValue } from "../python/value.js";
import type { BfclMethod, BfclParam } from "./types.js";

export type MethodArgs = Record<string, PyValue>;

// Parsed once per spec: every instance (one per class per entry) builds its table again. The lists are shared, so
// they are frozen.
const signatures = new Map<string, readonly BfclParam[]>();

export function signature(spec: string): readonly BfclParam[] {
  let params = signatures.get(spec);
  if (!params) {
    params = Object.freeze(
      spec
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part.length > 0)
        .map((part) => Object.freeze(part.endsWith("=") ? { name: part.slice(0, -1), required: false } : { name: part, required: true })),
    );
    signatures.set(spec, params);
  }
  return params;
}

export function method(spec: string, call: (args: MethodArgs) => PyValue): BfclMethod {
  return { params: signature(spec), call };
}

/** An optional argument, or its Python default when the call left it out. */
export function arg(args: MethodArgs, name: string, fallback: PyValue): PyValue {
  return Object.hasOwn(args, name) ? args[name]! : fallback;
}
