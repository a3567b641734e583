// JSON → Python values, keeping int and float apart as Python's json module does: a number written with a
// fraction or an exponent is a float (10.0 stays a float), one without is an int. Node's JSON.parse cannot.
import { EvolverError } from "../../../core/errors.js";
import { PY_ELLIPSIS, PyFloat, type PyDict, type PyValue } from "./value.js";

export function parsePythonJson(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new EvolverError("BFCL_BAD_JSON", `invalid JSON at offset ${i}: ${what}`);
  };
  const skip = () => {
    for (let c = text.charCodeAt(i); c === 32 || c === 10 || c === 13 || c === 9; c = text.charCodeAt(++i));
  };
  // The next backslash at or after the current string, found once and reused: positions only grow.
  let backslash = -1;
  const parseString = (): string => {
    // Find the closing quote by jumping from backslash to backslash; let JSON.parse decode the escapes of this one
    // string. (Question entries are mostly long prose: a search per character would dominate parsing them.)
    let j = i + 1;
    let escaped = false;
    for (;;) {
      const quote = text.indexOf('"', j);
      if (quote < 0) return fail("unterminated string");
      if (backslash < j) {
        const found = text.indexOf("\\", j);
        backslash = found < 0 ? Infinity : found;
      }
      if (backslash > quote) {
        j = quote;
        break;
      }
      escaped = true;
      j = backslash + 2;
    }
    const start = i;
    i = j + 1;
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, j);
  };
  const parseValue = (): PyValue => {
    skip();
    const c = text[i];
    if (c === "{") {
      i++;
      const object: PyDict = {};
      skip();
      if (text[i] === "}") return i++, object;
      for (;;) {
        skip();
        if (text[i] !== '"') fail("expected a key");
        const key = parseString();
        skip();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        const value = parseValue();
        // The long-context constants mark Python's Ellipsis this way.
        object[key] = value;
        skip();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          if (key === "__python__" && value === "Ellipsis" && Object.keys(object).length === 1) return PY_ELLIPSIS;
          return object;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const list: PyValue[] = [];
      skip();
      if (text[i] === "]") return i++, list;
      for (;;) {
        list.push(parseValue());
        skip();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return i++, list;
        else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (text.startsWith("null", i)) return (i += 4), null;
    // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, scanned by hand; a fraction or an exponent makes a float.
    const start = i;
    if (c === "-") i++;
    const first = text.charCodeAt(i);
    if (first === 48) i++;
    else if (isDigit(first)) while (isDigit(text.charCodeAt(++i)));
    else {
      i = start;
      return fail(`unexpected character '${c ?? "end of input"}'`);
    }
    let float = false;
    if (text.charCodeAt(i) === 46 && isDigit(text.charCodeAt(i + 1))) {
      float = true;
      for (i += 2; isDigit(text.charCodeAt(i)); i++);
    }
    const e = text.charCodeAt(i);
    if (e === 101 || e === 69) {
      let k = i + 1;
      const sign = text.charCodeAt(k);
      if (sign === 43 || sign === 45) k++;
      if (isDigit(text.charCodeAt(k))) {
        float = true;
        for (i = k + 1; isDigit(text.charCodeAt(i)); i++);
      }
    }
    const value = Number(text.slice(start, i));
    return float ? new PyFloat(value) : value;
  };
  const value = parseValue();
  skip();
  if (i !== text.length) fail("trailing characters");
  return value;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
