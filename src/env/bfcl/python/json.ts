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
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  };
  const parseString = (): string => {
    // Find the closing quote; let JSON.parse decode the escapes of this one string.
    let j = i + 1;
    let escaped = false;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 92) j++, (escaped = true);
      else if (c === 34) break;
    }
    if (j >= text.length) fail("unterminated string");
    const raw = text.slice(i, j + 1);
    i = j + 1;
    return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
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
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (!match) return fail(`unexpected character '${c ?? "end of input"}'`);
    i += match[0].length;
    const value = Number(match[0]);
    return match[1] !== undefined || match[2] !== undefined ? new PyFloat(value) : value;
  };
  const value = parseValue();
  skip();
  if (i !== text.length) fail("trailing characters");
  return value;
}
