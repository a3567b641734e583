// Python's printing of values: repr(), str(), json.dumps() and float repr, byte for byte. BFCL records every
// function result as a string printed by Python, and the checker compares those strings exactly.
import { PY_ELLIPSIS, PyFloat, PyMpf, PyTuple, isPyDict, type PyValue } from "./value.js";

/** Python's float repr: shortest round-trip digits, `.0` on integral values, exponent below 1e-4 and from 1e16. */
export function formatPyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const magnitude = Math.abs(x);
  if (magnitude >= 1e-4 && magnitude < 1e16) {
    // Here JS also prints fixed notation with the same shortest digits; only the `.0` may be missing.
    const text = String(x);
    return text.includes(".") ? text : `${text}.0`;
  }
  const sign = x < 0 ? "-" : "";
  const { digits, exponent } = shortestDigits(Math.abs(x));
  // CPython's 'r' format switches to exponent notation when the decimal point position is <= -4 or > 16.
  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const exponentText = String(Math.abs(exponent)).padStart(2, "0");
    return `${sign}${mantissa}e${exponent < 0 ? "-" : "+"}${exponentText}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const integerPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fraction = digits.slice(exponent + 1);
  return `${sign}${integerPart}.${fraction || "0"}`;
}

/** The shortest round-trip decimal digits of x > 0 (from JS's Number-to-String, which is specified shortest and
 * closest, as Python's repr is) and the decimal exponent of the first digit. */
function shortestDigits(x: number): { digits: string; exponent: number } {
  const text = String(x);
  const e = text.indexOf("e");
  if (e >= 0) {
    return { digits: text.slice(0, e).replace(".", ""), exponent: Number(text.slice(e + 1)) };
  }
  const point = text.indexOf(".");
  const integerLength = point < 0 ? text.length : point;
  const all = text.replace(".", "");
  let leading = 0;
  while (all[leading] === "0") leading++;
  const digits = all.slice(leading).replace(/0+$/, "");
  return { digits, exponent: integerLength - 1 - leading };
}

/** Python int repr of an integral JS number (no exponent form, no `-0`). */
function formatPyInt(x: number): string {
  if (Object.is(x, -0)) return "0";
  return Math.abs(x) < 1e21 ? String(x) : BigInt(x).toString();
}

function formatNumber(x: number): string {
  return Number.isInteger(x) ? formatPyInt(x) : formatPyFloat(x);
}

const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

/** Python's str repr: single quotes unless the text has ' and no ", escapes as unicode_repr writes them. */
export function pyStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + hex(code, 2);
    else if (code < 0x7f) out += ch;
    else if (ch !== " " && NOT_PRINTABLE.test(ch)) {
      out += code <= 0xff ? "\\x" + hex(code, 2) : code <= 0xffff ? "\\u" + hex(code, 4) : "\\U" + hex(code, 8);
    } else out += ch;
  }
  return out + quote;
}

function reprKey(key: number | string): string {
  return typeof key === "string" ? pyStringRepr(key) : formatNumber(key);
}

/** Python repr() of a value. */
export function pyRepr(value: PyValue | undefined): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return pyStringRepr(value);
  if (value === PY_ELLIPSIS) return "Ellipsis";
  if (value instanceof PyFloat) return formatPyFloat(value.value);
  if (value instanceof PyMpf) return `mpf('${value.text}')`;
  if (value instanceof PyTuple) {
    const items = value.items.map(pyRepr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (value instanceof Set) return value.size === 0 ? "set()" : `{${[...value].map(reprKey).join(", ")}}`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${reprKey(k)}: ${pyRepr(v)}`).join(", ")}}`;
  return `{${Object.entries(value).map(([k, v]) => `${pyStringRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
}

/** Python str(): strings and mpmath numbers print bare, everything else as repr. */
export function pyStr(value: PyValue | undefined): string {
  if (typeof value === "string") return value;
  if (value instanceof PyMpf) return value.text;
  return pyRepr(value);
}

/** Raised for what Python's json module cannot encode (set, mpf, Ellipsis, a tuple as a key). */
export class PyJsonEncodeError extends Error {}

export interface PyJsonOptions {
  /** Python's ensure_ascii (default true): non-ASCII as \uXXXX. */
  ensureAscii?: boolean;
  /** separators=(",", ":") instead of the defaults (", ", ": "). */
  compact?: boolean;
  /** Write a set as a list sorted ascending (the vector format's state serialisation) instead of refusing it. */
  setsAsSortedLists?: boolean;
}

const JSON_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

// ensure_ascii escapes every code unit outside space..~ (astral characters become their surrogate pair).
const ESCAPE_ASCII = /["\\\u0000-\u001f\u007f-\uffff]/;
const ESCAPE_ASCII_ALL = new RegExp(ESCAPE_ASCII.source, "g");
const ESCAPE_UNICODE = /["\\\u0000-\u001f]/;
const ESCAPE_UNICODE_ALL = new RegExp(ESCAPE_UNICODE.source, "g");

// Results are JSON text written again inside a vector line: full of quotes and nothing else to escape. Those go
// through one native replace instead of a callback per quote.
const QUOTE_OR_BACKSLASH_ALL = /["\\]/g;
const OTHER_ESCAPE_ASCII = /[\u0000-\u001f\u007f-\uffff]/;
const OTHER_ESCAPE_UNICODE = /[\u0000-\u001f]/;

function jsonString(text: string, ensureAscii: boolean): string {
  if (!(ensureAscii ? ESCAPE_ASCII : ESCAPE_UNICODE).test(text)) return `"${text}"`;
  if (!(ensureAscii ? OTHER_ESCAPE_ASCII : OTHER_ESCAPE_UNICODE).test(text)) return `"${text.replace(QUOTE_OR_BACKSLASH_ALL, "\\$&")}"`;
  const pattern = ensureAscii ? ESCAPE_ASCII_ALL : ESCAPE_UNICODE_ALL;
  return `"${text.replace(pattern, (ch) => JSON_ESCAPES[ch] ?? "\\u" + hex(ch.charCodeAt(0), 4))}"`;
}

function jsonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  return formatPyFloat(x);
}

function jsonKey(key: number | string): string {
  if (typeof key === "string") return key;
  return Number.isInteger(key) ? formatPyInt(key) : jsonFloat(key);
}

// The text of frozen lists and dicts, by options: the long-context constants are frozen, shared by every entry and
// written again inside many results and states of a long-context replay.
const frozenTexts = new Map<string, WeakMap<object, string>>();

/** Python json.dumps(value) with the given options; throws PyJsonEncodeError where Python raises TypeError. */
export function pyJsonDumps(value: PyValue | undefined, options: PyJsonOptions = {}): string {
  const ensureAscii = options.ensureAscii ?? true;
  const itemSeparator = options.compact ? "," : ", ";
  const keySeparator = options.compact ? ":" : ": ";
  const setsAsLists = options.setsAsSortedLists ?? false;
  const optionsKey = `${ensureAscii}${options.compact ?? false}${setsAsLists}`;
  const frozen = (v: object): boolean => {
    if (v === value || !Object.isFrozen(v)) return false;
    let texts = frozenTexts.get(optionsKey);
    if (!texts) frozenTexts.set(optionsKey, (texts = new WeakMap()));
    let text = texts.get(v);
    if (text === undefined) texts.set(v, (text = pyJsonDumps(v as PyValue, options)));
    out += text;
    return true;
  };
  // One string grown by appending (no array per container): replaying a category writes some 10 MB of this.
  let out = "";
  const list = (items: readonly PyValue[]) => {
    out += "[";
    for (let i = 0; i < items.length; i++) {
      if (i > 0) out += itemSeparator;
      encode(items[i]);
    }
    out += "]";
  };
  const encode = (v: PyValue | undefined): void => {
    if (v === null || v === undefined) out += "null";
    else if (v === true) out += "true";
    else if (v === false) out += "false";
    else if (typeof v === "number") out += Number.isInteger(v) ? formatPyInt(v) : jsonFloat(v);
    else if (typeof v === "string") out += jsonString(v, ensureAscii);
    else if (v instanceof PyFloat) out += jsonFloat(v.value);
    else if (v instanceof PyTuple) list(v.items);
    else if (Array.isArray(v)) {
      if (!frozen(v)) list(v);
    }
    else if (v instanceof Map) {
      out += "{";
      let first = true;
      for (const [k, item] of v) {
        if (!first) out += itemSeparator;
        first = false;
        out += jsonString(jsonKey(k), ensureAscii) + keySeparator;
        encode(item);
      }
      out += "}";
    } else if (isPyDict(v)) {
      if (frozen(v)) return;
      out += "{";
      let first = true;
      for (const k in v) {
        if (!first) out += itemSeparator;
        first = false;
        out += jsonString(k, ensureAscii) + keySeparator;
        encode(v[k]);
      }
      out += "}";
    } else if (setsAsLists && v instanceof Set) {
      list([...v].sort(ascending));
    } else {
      const typeName = v instanceof Set ? "set" : v instanceof PyMpf ? "mpf" : v === PY_ELLIPSIS ? "ellipsis" : typeof v;
      throw new PyJsonEncodeError(`Object of type ${typeName} is not JSON serializable`);
    }
  };
  encode(value);
  return out;
}

function ascending(x: number | string, y: number | string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** How BFCL records a function's return value: str kept, dict through json.dumps (repr when JSON cannot encode
 * it), anything else through str(). */
export function stringifyResult(value: PyValue | undefined): string {
  if (typeof value === "string") return value;
  if (value instanceof Map || isPyDict(value)) {
    try {
      return pyJsonDumps(value);
    } catch (error) {
      if (error instanceof PyJsonEncodeError) return pyRepr(value);
      throw error;
    }
  }
  return pyStr(value);
}
