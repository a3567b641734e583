// JSON → Python values, keeping int and float apart as Python's json module does: a number written with a
// fraction or an exponent is a float (10.0 stays a float), one without is an int. Node's JSON.parse cannot.
import { EvolverError } from "../../../core/errors.js";
import { PY_ELLIPSIS, PyFloat, type PyDict, type PyValue } from "./value.js";

export function parsePythonJson(text: string): PyValue {
  const parser = new PythonJsonParser(text);
  const value = parser.value();
  parser.skip();
  if (parser.i !== text.length) parser.fail("trailing characters");
  return value;
}

// A class rather than closures: every tool call's arguments come through here, so a parse should allocate little.
class PythonJsonParser {
  i = 0;
  /** The next backslash at or after the current string, found once and reused: positions only grow. */
  private backslash = -1;

  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new EvolverError("BFCL_BAD_JSON", `invalid JSON at offset ${this.i}: ${what}`);
  }

  skip(): void {
    const text = this.text;
    let i = this.i;
    for (let c = text.charCodeAt(i); c === 32 || c === 10 || c === 13 || c === 9; c = text.charCodeAt(++i));
    this.i = i;
  }

  private string(): string {
    // Find the closing quote by jumping from backslash to backslash; let JSON.parse decode the escapes of this one
    // string. (Question entries are mostly long prose: a search per character would dominate parsing them.)
    const text = this.text;
    let j = this.i + 1;
    let escaped = false;
    for (;;) {
      const quote = text.indexOf('"', j);
      if (quote < 0) return this.fail("unterminated string");
      if (this.backslash < j) {
        const found = text.indexOf("\\", j);
        this.backslash = found < 0 ? Infinity : found;
      }
      if (this.backslash > quote) {
        j = quote;
        break;
      }
      escaped = true;
      j = this.backslash + 2;
    }
    const start = this.i;
    this.i = j + 1;
    return escaped ? (JSON.parse(text.slice(start, j + 1)) as string) : text.slice(start + 1, j);
  }

  value(): PyValue {
    this.skip();
    const text = this.text;
    const c = text[this.i];
    if (c === "{") {
      this.i++;
      const object: PyDict = {};
      this.skip();
      if (text[this.i] === "}") return this.i++, object;
      for (;;) {
        this.skip();
        if (text[this.i] !== '"') this.fail("expected a key");
        const key = this.string();
        this.skip();
        if (text[this.i] !== ":") this.fail("expected ':'");
        this.i++;
        const value = this.value();
        object[key] = value;
        this.skip();
        if (text[this.i] === ",") this.i++;
        else if (text[this.i] === "}") {
          this.i++;
          // The long-context constants mark Python's Ellipsis this way.
          if (key === "__python__" && value === "Ellipsis" && Object.keys(object).length === 1) return PY_ELLIPSIS;
          return object;
        } else this.fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      this.i++;
      const list: PyValue[] = [];
      this.skip();
      if (text[this.i] === "]") return this.i++, list;
      for (;;) {
        list.push(this.value());
        this.skip();
        if (text[this.i] === ",") this.i++;
        else if (text[this.i] === "]") return this.i++, list;
        else this.fail("expected ',' or ']'");
      }
    }
    if (c === '"') return this.string();
    if (text.startsWith("true", this.i)) return (this.i += 4), true;
    if (text.startsWith("false", this.i)) return (this.i += 5), false;
    if (text.startsWith("null", this.i)) return (this.i += 4), null;
    return this.number(c);
  }

  /** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, scanned by hand; a fraction or an exponent makes a float. */
  private number(c: string | undefined): PyValue {
    const text = this.text;
    const start = this.i;
    let i = start;
    if (c === "-") i++;
    const first = text.charCodeAt(i);
    if (first === 48) i++;
    else if (isDigit(first)) while (isDigit(text.charCodeAt(++i)));
    else return this.fail(`unexpected character '${c ?? "end of input"}'`);
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
    this.i = i;
    const value = Number(text.slice(start, i));
    return float ? new PyFloat(value) : value;
  }
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
