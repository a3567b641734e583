// Python values as the BFCL backends see them. BFCL's results and states are Python objects printed by
// Python, so we must keep apart what JavaScript merges: int 10 and float 10.0.
//
// - A plain JS number is a Python int when it is integral, a float otherwise.
// - `PyFloat` boxes a float that must stay a float even when integral (10.0, 25000.0). API code that computes a
//   float in Python wraps the result with `pyFloat(x)`; `num(v)` unboxes either kind for arithmetic.
// - str → string, bool → boolean, None → null, list → array, dict with str keys → plain object,
//   dict with int keys (or mixed) → Map, set → Set, tuple → PyTuple, mpmath number → PyMpf, `...` → PY_ELLIPSIS.

export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
}

/** An mpmath number, printed by repr as `mpf('1.3027')`; JSON cannot encode it. */
export class PyMpf {
  constructor(readonly text: string) {}
}

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export const PY_ELLIPSIS: unique symbol = Symbol("Ellipsis");

export type PyDict = { [key: string]: PyValue };
export type PyValue =
  | null
  | boolean
  | number
  | string
  | PyFloat
  | PyMpf
  | PyTuple
  | typeof PY_ELLIPSIS
  | PyValue[]
  | PyDict
  | Map<number | string, PyValue>
  | Set<number | string>;

export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

/** The numeric value of an int or a float. */
export function num(value: PyValue | undefined): number {
  if (typeof value === "number") return value;
  if (value instanceof PyFloat) return value.value;
  throw new TypeError(`expected a number, got ${describePyType(value)}`);
}

export function isPyFloat(value: unknown): value is PyFloat {
  return value instanceof PyFloat;
}

/** A Python float stays a float; a plain number stays as Python would type it (int if integral). */
export function isPyNumber(value: unknown): value is number | PyFloat {
  return typeof value === "number" || value instanceof PyFloat;
}

export function isPyDict(value: unknown): value is PyDict {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Python's type name of a value, for error messages like BFCL's. */
export function describePyType(value: PyValue | undefined): string {
  if (value === null || value === undefined) return "NoneType";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  if (value instanceof PyFloat) return "float";
  if (value instanceof PyMpf) return "mpf";
  if (value instanceof PyTuple) return "tuple";
  if (value === PY_ELLIPSIS) return "ellipsis";
  if (Array.isArray(value)) return "list";
  if (value instanceof Set) return "set";
  return "dict";
}

/** A deep copy (Python's copy.deepcopy) of a value. */
export function deepCopy<T extends PyValue>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof PyFloat || value instanceof PyMpf) return value;
  if (value instanceof PyTuple) return new PyTuple(value.items.map((v) => deepCopy(v))) as T;
  if (Array.isArray(value)) return value.map((v) => deepCopy(v)) as T;
  if (value instanceof Map) return new Map([...value.entries()].map(([k, v]): [number | string, PyValue] => [k, deepCopy(v)])) as T;
  if (value instanceof Set) return new Set(value) as T;
  const copy: PyDict = {};
  for (const [k, v] of Object.entries(value as PyDict)) copy[k] = deepCopy(v);
  return copy as T;
}
