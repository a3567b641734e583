// A compact way to write a backend's method table: the Python signature as a string ("title, description=,
// priority=": a trailing "=" marks a parameter with a default) next to the function that runs the call.
import type { PyValue } from "../python/value.js";
import type { BfclMethod, BfclParam } from "./types.js";

export type MethodArgs = Record<string, PyValue>;

export function signature(spec: string): BfclParam[] {
  return spec
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => (part.endsWith("=") ? { name: part.slice(0, -1), required: false } : { name: part, required: true }));
}

export function method(spec: string, call: (args: MethodArgs) => PyValue): BfclMethod {
  return { params: signature(spec), call };
}

/** An optional argument, or its Python default when the call left it out. */
export function arg(args: MethodArgs, name: string, fallback: PyValue): PyValue {
  return Object.hasOwn(args, name) ? args[name]! : fallback;
}
