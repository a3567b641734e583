// Python semantics the BFCL backends rely on and JavaScript does not give for free: int/float arithmetic that
// keeps Python's types (int + int is an int, anything with a float is a float), `==` across int/float/bool,
// ordering comparisons that raise TypeError on mixed types, truthiness, `float()` and `round(x, n)`.
// Errors use Python's own messages, because BFCL records them as "Error during execution: <message>".
import { pyRepr, pyStringRepr } from "../python/repr.js";
import { PyFloat, PyMpf, PyTuple, describePyType, type PyDict, type PyValue } from "../python/value.js";
import { BfclCallError } from "./types.js";

type PyNumberLike = number | PyFloat | boolean;

/** A Python ValueError, for the backends that catch it (`except ValueError`) and let TypeError through. */
export class PyValueError extends BfclCallError {}

export function isPyNumeric(value: PyValue | undefined): value is PyNumberLike {
  return typeof value === "number" || typeof value === "boolean" || value instanceof PyFloat;
}

/** True for a Python float: a boxed float or a plain non-integral number. */
export function isFloatValue(value: PyValue | undefined): boolean {
  return value instanceof PyFloat || (typeof value === "number" && !Number.isInteger(value));
}

function numericValue(value: PyNumberLike): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  return typeof value === "number" ? value : value.value;
}

function typeName(value: PyValue | undefined): string {
  return describePyType(value);
}

export function pyTruthy(value: PyValue | undefined): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (typeof value === "number") return value !== 0;
  if (value instanceof PyFloat) return value.value !== 0;
  if (typeof value === "string") return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof PyTuple) return value.items.length > 0;
  if (value instanceof Map || value instanceof Set) return value.size > 0;
  if (value instanceof PyMpf) return Number(value.text) !== 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

function dictEntries(value: PyDict | Map<number | string, PyValue>): Map<number | string, PyValue> {
  return value instanceof Map ? value : new Map(Object.entries(value));
}

function isDictValue(value: PyValue | undefined): value is PyDict | Map<number | string, PyValue> {
  return value instanceof Map || (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype);
}

/** Python `a == b`. */
export function pyEquals(a: PyValue | undefined, b: PyValue | undefined): boolean {
  if (isPyNumeric(a) && isPyNumeric(b)) return numericValue(a) === numericValue(b);
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => pyEquals(item, b[i]));
  if (a instanceof PyTuple && b instanceof PyTuple) {
    return a.items.length === b.items.length && a.items.every((item, i) => pyEquals(item, b.items[i]));
  }
  if (a instanceof Set && b instanceof Set) return a.size === b.size && [...a].every((item) => b.has(item));
  if (a instanceof PyMpf && b instanceof PyMpf) return Number(a.text) === Number(b.text);
  if (isDictValue(a) && isDictValue(b)) {
    const left = dictEntries(a);
    const right = dictEntries(b);
    if (left.size !== right.size) return false;
    for (const [key, value] of left) {
      if (!right.has(key) || !pyEquals(value, right.get(key))) return false;
    }
    return true;
  }
  return a === b;
}

export type CompareOp = "<" | "<=" | ">" | ">=";

/** Python `a <op> b` for numbers and strings; other mixes raise TypeError as Python does. */
export function pyCompare(a: PyValue | undefined, op: CompareOp, b: PyValue | undefined): boolean {
  let left: number | string;
  let right: number | string;
  if (isPyNumeric(a) && isPyNumeric(b)) {
    left = numericValue(a);
    right = numericValue(b);
  } else if (typeof a === "string" && typeof b === "string") {
    left = a;
    right = b;
  } else {
    throw new BfclCallError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
  }
  switch (op) {
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    case ">=":
      return left >= right;
  }
}

function numberResult(value: number, float: boolean): number | PyFloat {
  return float ? new PyFloat(value) : value;
}

function unsupported(op: string, a: PyValue | undefined, b: PyValue | undefined): never {
  throw new BfclCallError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

/** Python `a + b`; `op` is the operator named in a TypeError ("+=" for augmented assignment). */
export function pyAdd(a: PyValue | undefined, b: PyValue | undefined, op = "+"): PyValue {
  if (isPyNumeric(a) && isPyNumeric(b)) return numberResult(numericValue(a) + numericValue(b), isFloatValue(a) || isFloatValue(b));
  if (typeof a === "string" && typeof b === "string") return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (typeof a === "string" || Array.isArray(a)) {
    const kind = typeName(a);
    throw new BfclCallError(`can only concatenate ${kind} (not "${typeName(b)}") to ${kind}`);
  }
  return unsupported(op, a, b);
}

export function pySub(a: PyValue | undefined, b: PyValue | undefined, op = "-"): number | PyFloat {
  if (isPyNumeric(a) && isPyNumeric(b)) return numberResult(numericValue(a) - numericValue(b), isFloatValue(a) || isFloatValue(b));
  return unsupported(op, a, b);
}

export function pyMul(a: PyValue | undefined, b: PyValue | undefined, op = "*"): PyValue {
  if (isPyNumeric(a) && isPyNumeric(b)) return numberResult(numericValue(a) * numericValue(b), isFloatValue(a) || isFloatValue(b));
  const sequence = (v: PyValue | undefined) => typeof v === "string" || Array.isArray(v) || v instanceof PyTuple;
  // Sequence repetition: "ab" * 2, [x] * 3 (an int or bool count; a float count is an error below).
  const repeat = (seq: PyValue | undefined, count: PyValue | undefined): PyValue | undefined => {
    if (!sequence(seq) || !isPyNumeric(count) || isFloatValue(count)) return undefined;
    const times = Math.max(0, numericValue(count));
    if (typeof seq === "string") return seq.repeat(times);
    const items = Array.isArray(seq) ? seq : (seq as PyTuple).items;
    const out: PyValue[] = [];
    for (let i = 0; i < times; i++) out.push(...items);
    return Array.isArray(seq) ? out : new PyTuple(out);
  };
  const repeated = repeat(a, b) ?? repeat(b, a);
  if (repeated !== undefined) return repeated;
  if ((sequence(a) && !isPyNumeric(b)) || (sequence(b) && !isPyNumeric(a)) || ((sequence(a) || sequence(b)) && (isFloatValue(a) || isFloatValue(b)))) {
    throw new BfclCallError(`can't multiply sequence by non-int of type '${typeName(sequence(a) ? b : a)}'`);
  }
  return unsupported(op, a, b);
}

/** Python `a / b`: always a float. */
export function pyTrueDiv(a: PyValue | undefined, b: PyValue | undefined): PyFloat {
  if (!isPyNumeric(a) || !isPyNumeric(b)) return unsupported("/", a, b);
  const divisor = numericValue(b);
  if (divisor === 0) {
    throw new BfclCallError(isFloatValue(a) || isFloatValue(b) ? "float division by zero" : "division by zero");
  }
  return new PyFloat(numericValue(a) / divisor);
}

/** Python `abs(x)` for numbers. */
export function pyAbs(value: PyValue | undefined): number | PyFloat {
  if (!isPyNumeric(value)) throw new BfclCallError(`bad operand type for abs(): '${typeName(value)}'`);
  return numberResult(Math.abs(numericValue(value)), isFloatValue(value));
}

const FLOAT_TEXT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|(?:\d(?:_?\d)*)\.(?:[eE][+-]?\d(?:_?\d)*)?|inf|infinity|nan)$/i;

/** Python `float(x)`. */
export function pyToFloat(value: PyValue | undefined): PyFloat {
  if (isPyNumeric(value)) return new PyFloat(numericValue(value));
  if (typeof value === "string") {
    const text = value.trim();
    if (FLOAT_TEXT.test(text)) {
      const lower = text.toLowerCase().replace(/_/g, "");
      const sign = lower.startsWith("-") ? -1 : 1;
      const body = lower.replace(/^[+-]/, "");
      if (body === "inf" || body === "infinity") return new PyFloat(sign * Infinity);
      if (body === "nan") return new PyFloat(NaN);
      return new PyFloat(Number(lower));
    }
    throw new PyValueError(`could not convert string to float: ${pyStringRepr(value)}`);
  }
  throw new BfclCallError(`float() argument must be a string or a real number, not '${typeName(value)}'`);
}

/**
 * Python `round(x, ndigits)` for a float: the exact binary value rounded to `ndigits` decimals, ties to even
 * (Number#toFixed sees the exact value too but breaks ties upwards).
 */
export function pyRoundFloat(x: number, ndigits: number): PyFloat {
  if (!Number.isFinite(x) || x === 0 || Math.abs(x) >= 1e21) return new PyFloat(x);
  const negative = x < 0;
  // Enough digits that a value which only looks like a tie shows a non-zero digit after the 5.
  const wide = Math.abs(x).toFixed(Math.min(100, 3 * ndigits + 25));
  const dot = wide.indexOf(".");
  const kept = wide.slice(0, dot + 1 + ndigits);
  const rest = wide.slice(dot + 1 + ndigits);
  const digits = BigInt(kept.replace(".", ""));
  let roundUp: boolean;
  if (rest[0]! > "5") roundUp = true;
  else if (rest[0]! < "5") roundUp = false;
  else if (/[1-9]/.test(rest.slice(1))) roundUp = true;
  else roundUp = digits % 2n === 1n;
  const rounded = (roundUp ? digits + 1n : digits).toString().padStart(ndigits + 1, "0");
  const text = ndigits === 0 ? rounded : `${rounded.slice(0, -ndigits)}.${rounded.slice(-ndigits)}`;
  const value = Number(text);
  return new PyFloat(negative ? -value : value);
}

/** Python `round(x, ndigits)`: an int stays an int (for ndigits >= 0). */
export function pyRound(value: PyValue | undefined, ndigits: number): number | PyFloat {
  if (!isPyNumeric(value)) throw new BfclCallError(`type ${typeName(value)} doesn't define __round__ method`);
  if (!isFloatValue(value)) return numericValue(value);
  return pyRoundFloat(numericValue(value), ndigits);
}

/** A str-keyed dict lookup that never sees Object.prototype ("__proto__", "constructor"). */
export function ownValue(dict: PyDict, key: PyValue | undefined): PyValue | undefined {
  return typeof key === "string" && Object.hasOwn(dict, key) ? dict[key] : undefined;
}

/** Python `container[key]` on a dict (a missing key raises KeyError, whose message is repr(key)). */
export function getItem(dict: PyValue | undefined, key: PyValue | undefined): PyValue {
  if (dict instanceof Map) {
    requireHashable(key);
    if (key === null || key === undefined || !dict.has(dictKey(key))) throw keyError(key);
    return dict.get(dictKey(key))!;
  }
  if (!isDictValue(dict)) throw subscriptError(dict, key);
  requireHashable(key);
  const found = ownValue(dict, key);
  if (found === undefined) throw keyError(key);
  return found;
}

/** Python `container[key] = value` on a dict. */
export function setItem(dict: PyValue | undefined, key: string, value: PyValue): void {
  if (dict instanceof Map) dict.set(key, value);
  else if (isDictValue(dict)) dict[key] = value;
  else throw new BfclCallError(`'${typeName(dict)}' object does not support item assignment`);
}

/** Python `container.get(key, fallback)` on a dict. */
export function dictGet(dict: PyValue | undefined, key: PyValue | undefined, fallback: PyValue): PyValue {
  if (!isDictValue(dict)) throw new BfclCallError(`'${typeName(dict)}' object has no attribute 'get'`);
  return pyContains(dict, key) ? getItem(dict, key) : fallback;
}

/** Python `value.copy()` on a dict: a shallow copy in the same order. */
export function copyDict(value: PyValue | undefined): PyDict {
  if (isDictValue(value) && !(value instanceof Map)) return { ...value };
  throw new BfclCallError(`'${typeName(value)}' object has no attribute 'copy'`);
}

// CPython 3.10's texts for indexing something that is not a dict with a str key.
function subscriptError(container: PyValue | undefined, key: PyValue | undefined): BfclCallError {
  if (typeof container === "string") return new BfclCallError("string indices must be integers");
  if (Array.isArray(container)) return new BfclCallError(`list indices must be integers or slices, not ${typeName(key)}`);
  return new BfclCallError(`'${typeName(container)}' object is not subscriptable`);
}

/** The key a Python value hashes to in a Map: equal numbers (1, 1.0, True) share one key. */
export function dictKey(key: PyValue | undefined): number | string {
  if (typeof key === "string") return key;
  if (isPyNumeric(key)) return numericValue(key);
  throw new BfclCallError(`unhashable type: '${typeName(key)}'`);
}

export function keyError(key: PyValue | undefined): BfclCallError {
  return new BfclCallError(pyRepr(key));
}

/** What `for x in value` visits: list items, str characters, dict keys. */
export function pyIterate(value: PyValue | undefined): PyValue[] {
  if (Array.isArray(value)) return value;
  if (typeof value === "string") return [...value];
  if (value instanceof PyTuple) return value.items;
  if (value instanceof Set) return [...value];
  if (value instanceof Map) return [...value.keys()];
  if (isDictValue(value)) return Object.keys(value);
  throw new BfclCallError(`'${typeName(value)}' object is not iterable`);
}

/** `x in container` for a list or str-keyed dict. */
export function pyContains(container: PyValue | undefined, item: PyValue | undefined): boolean {
  if (Array.isArray(container)) return container.some((entry) => pyEquals(entry, item));
  if (typeof container === "string") {
    if (typeof item !== "string") throw new BfclCallError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    return container.includes(item);
  }
  if (container instanceof Map) {
    requireHashable(item);
    return item !== null && container.has(dictKey(item));
  }
  if (isDictValue(container)) {
    requireHashable(item);
    return ownValue(container, item) !== undefined;
  }
  throw new BfclCallError(`argument of type '${typeName(container)}' is not iterable`);
}

/** Using a list, dict or set as a dict key raises TypeError, even for a lookup that would miss. */
export function requireHashable(value: PyValue | undefined): void {
  if (Array.isArray(value) || value instanceof Map || value instanceof Set || isDictValue(value)) {
    throw new BfclCallError(`unhashable type: '${typeName(value)}'`);
  }
  if (value instanceof PyTuple) value.items.forEach(requireHashable);
}

/** `table.get(key, fallback)` on a str-keyed table. */
export function lookup<T>(table: Record<string, T>, key: PyValue | undefined, fallback: T): T {
  requireHashable(key);
  return typeof key === "string" && Object.hasOwn(table, key) ? table[key]! : fallback;
}

/** Calling a str method on a value that is not a str raises AttributeError. */
export function requireStr(value: PyValue | undefined, method: string): string {
  if (typeof value === "string") return value;
  throw new BfclCallError(`'${typeName(value)}' object has no attribute '${method}'`);
}
