// A parser for Python call expressions made of literals, as BFCL writes them: ground truth such as
// `cd(folder='document')` and the prompting format `[func(a=1, b="x"), g()]`. Nothing is ever evaluated: only
// literals (str, int, float, True/False/None, list, tuple, dict, set, unary minus/plus on numbers) are accepted.
import { EvolverError } from "../../../core/errors.js";
import { PyFloat, PyTuple, type PyDict, type PyValue } from "./value.js";
import { pyRepr } from "./repr.js";

export interface BfclCall {
  name: string;
  positional: PyValue[];
  keyword: [string, PyValue][];
}

const IDENTIFIER = /[A-Za-z_\p{L}][A-Za-z0-9_\p{L}\p{N}]*/uy;
const NUMBER = /(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)[jJ]?/y;
const SIMPLE_ESCAPES: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\n": "" };

class CallParser {
  private i = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    const shown = this.text.length > 200 ? this.text.slice(0, 200) + "..." : this.text;
    throw new EvolverError("BFCL_PARSE", `cannot parse call: ${what} at offset ${this.i} in ${JSON.stringify(shown)}`, {
      details: { offset: this.i, text: this.text },
    });
  }

  skip(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.i);
      // ASCII space, \t..\r; beyond ASCII, whatever else \s matches.
      if (c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(this.text[this.i]))) this.i++;
      else return;
    }
  }

  peek(): string | undefined {
    this.skip();
    return this.text[this.i];
  }

  expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected '${ch}'`);
    this.i++;
  }

  atEnd(): boolean {
    return this.peek() === undefined;
  }

  identifier(): string | undefined {
    this.skip();
    IDENTIFIER.lastIndex = this.i;
    const match = IDENTIFIER.exec(this.text);
    if (!match) return undefined;
    this.i += match[0].length;
    return match[0];
  }

  call(): BfclCall {
    const name = this.identifier();
    if (name === undefined) this.fail("expected a function name");
    if (this.peek() === ".") this.fail("dotted names are not supported");
    this.expect("(");
    const positional: PyValue[] = [];
    const keyword: [string, PyValue][] = [];
    while (this.peek() !== ")") {
      if (this.atEnd()) this.fail("expected ')'");
      const start = this.i;
      const key = this.identifier();
      if (key !== undefined && this.peek() === "=" && this.text[this.i + 1] !== "=") {
        this.i++;
        if (keyword.some(([k]) => k === key)) this.fail(`keyword argument repeated: ${key}`);
        keyword.push([key, this.value()]);
      } else {
        this.i = start;
        if (keyword.length > 0) this.fail("positional argument follows keyword argument");
        positional.push(this.value());
      }
      if (this.peek() === ",") this.i++;
      else if (this.peek() !== ")") this.fail("expected ',' or ')'");
    }
    this.i++;
    return { name, positional, keyword };
  }

  /** Items up to `close`, comma separated, trailing comma allowed. */
  items(close: string, item: () => void): void {
    while (this.peek() !== close) {
      if (this.atEnd()) this.fail(`expected '${close}'`);
      item();
      if (this.peek() === ",") this.i++;
      else if (this.peek() !== close) this.fail(`expected ',' or '${close}'`);
    }
    this.i++;
  }

  value(): PyValue {
    const c = this.peek();
    if (c === undefined) return this.fail("unexpected end of input");
    if (c === "-" || c === "+") {
      this.i++;
      const operand = this.value();
      if (typeof operand === "number") return c === "-" ? -operand : operand;
      if (operand instanceof PyFloat) return new PyFloat(c === "-" ? -operand.value : operand.value);
      return this.fail(`unary '${c}' applies to numbers only`);
    }
    if (c === "[") {
      this.i++;
      const list: PyValue[] = [];
      this.items("]", () => list.push(this.value()));
      return list;
    }
    if (c === "(") return this.parenthesized();
    if (c === "{") return this.braces();
    if (c === "'" || c === '"') return this.strings();
    if (/[0-9.]/.test(c)) return this.number();
    const start = this.i;
    const name = this.identifier();
    if (name === undefined) return this.fail(`unexpected character '${c}'`);
    if (/^[rRuU]$/.test(name) && (this.text[this.i] === "'" || this.text[this.i] === '"')) {
      this.i = start;
      return this.strings();
    }
    if (name === "True") return true;
    if (name === "False") return false;
    if (name === "None") return null;
    this.i = start;
    return this.fail(`only literals are allowed, found the name '${name}'`);
  }

  parenthesized(): PyValue {
    this.i++;
    if (this.peek() === ")") return this.i++, new PyTuple([]);
    const first = this.value();
    if (this.peek() === ")") return this.i++, first;
    this.expect(",");
    const items: PyValue[] = [first];
    this.items(")", () => items.push(this.value()));
    return new PyTuple(items);
  }

  braces(): PyValue {
    this.i++;
    if (this.peek() === "}") return this.i++, {};
    const first = this.value();
    if (this.peek() !== ":") {
      const set = new Set<number | string>();
      const add = (v: PyValue) => (typeof v === "number" || typeof v === "string" ? set.add(v) : this.fail("unsupported set element"));
      add(first);
      if (this.peek() === ",") this.i++;
      this.items("}", () => add(this.value()));
      return set;
    }
    const entries: [number | string, PyValue][] = [];
    const entry = (key: PyValue) => {
      if (typeof key !== "string" && typeof key !== "number") this.fail("dict keys must be str or int literals");
      this.expect(":");
      entries.push([key, this.value()]);
    };
    entry(first);
    if (this.peek() === ",") this.i++;
    this.items("}", () => entry(this.value()));
    if (entries.every(([k]) => typeof k === "string")) {
      const dict: PyDict = {};
      for (const [k, v] of entries) dict[k as string] = v;
      return dict;
    }
    return new Map(entries);
  }

  number(): PyValue {
    NUMBER.lastIndex = this.i;
    const match = NUMBER.exec(this.text);
    if (!match || match[0] === ".") return this.fail("invalid number");
    this.i += match[0].length;
    const raw = match[0].replace(/_/g, "");
    if (/[jJ]$/.test(raw)) return this.fail("complex numbers are not supported");
    if (/^0[xXoObB]/.test(raw)) return Number(raw);
    return /[.eE]/.test(raw) ? new PyFloat(Number(raw)) : Number(raw);
  }

  /** One or more adjacent string literals (Python concatenates them). */
  strings(): string {
    let out = this.string();
    for (;;) {
      const save = this.i;
      this.skip();
      if (!/^[rRuU]?['"]/.test(this.text.slice(this.i, this.i + 2))) {
        this.i = save;
        return out;
      }
      out += this.string();
    }
  }

  string(): string {
    let raw = false;
    if (/[rRuU]/.test(this.text[this.i])) raw = /[rR]/.test(this.text[this.i++]);
    const quote = this.text[this.i];
    const triple = this.text.startsWith(quote.repeat(3), this.i);
    const delimiter = triple ? quote.repeat(3) : quote;
    this.i += delimiter.length;
    const quoteCode = quote.charCodeAt(0);
    let out = "";
    for (;;) {
      // The run of plain characters up to the next backslash, newline or quote, copied in one slice.
      let end = this.i;
      for (let c = this.text.charCodeAt(end); end < this.text.length && c !== 92 && c !== 10 && c !== quoteCode; c = this.text.charCodeAt(++end));
      if (end > this.i) {
        out += this.text.slice(this.i, end);
        this.i = end;
      }
      if (this.i >= this.text.length) this.fail("unterminated string");
      if (this.text.startsWith(delimiter, this.i)) {
        this.i += delimiter.length;
        return out;
      }
      const ch = this.text[this.i];
      if (ch === "\n" && !triple) this.fail("unterminated string");
      if (ch !== "\\") {
        out += ch;
        this.i++;
        continue;
      }
      const next = this.text[this.i + 1];
      if (next === undefined) this.fail("unterminated string");
      if (raw) {
        out += ch + next;
        this.i += 2;
        continue;
      }
      out += this.escape(next);
    }
  }

  /** Decodes the escape at this.i (a backslash followed by `next`). */
  escape(next: string): string {
    if (Object.hasOwn(SIMPLE_ESCAPES, next)) return (this.i += 2), SIMPLE_ESCAPES[next];
    const hexDigits = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
    if (hexDigits > 0) {
      const digits = this.text.slice(this.i + 2, this.i + 2 + hexDigits);
      if (!new RegExp(`^[0-9a-fA-F]{${hexDigits}}$`).test(digits)) this.fail(`truncated \\${next} escape`);
      const code = parseInt(digits, 16);
      if (code > 0x10ffff) this.fail("illegal Unicode character");
      this.i += 2 + hexDigits;
      return String.fromCodePoint(code);
    }
    const octal = /^[0-7]{1,3}/.exec(this.text.slice(this.i + 1, this.i + 4));
    if (octal) return (this.i += 1 + octal[0].length), String.fromCharCode(parseInt(octal[0], 8));
    if (next === "N") this.fail("\\N{...} escapes are not supported");
    // Python keeps an unknown escape as written.
    this.i += 2;
    return "\\" + next;
  }
}

/** Parses one call expression, e.g. `cd(folder='document')` or `sort('final_report.pdf')`. */
export function parseBfclCall(text: string): BfclCall {
  const parser = new CallParser(text);
  const call = parser.call();
  if (!parser.atEnd()) parser.fail("unexpected text after the call");
  return call;
}

/** Parses BFCL's prompting output: `[f(a=1), g()]`, also without brackets or inside a ``` fence. */
export function parseBfclCalls(text: string): BfclCall[] {
  let body = text.trim().replace(/^`+(?:python\b)?/, "").replace(/`+$/, "").trim();
  if (!body.startsWith("[")) body = `[${body}`;
  if (!body.endsWith("]")) body = `${body}]`;
  const parser = new CallParser(body);
  parser.expect("[");
  const calls: BfclCall[] = [];
  parser.items("]", () => calls.push(parser.call()));
  if (!parser.atEnd()) parser.fail("unexpected text after the list of calls");
  return calls;
}

/** The call as Python source, the way BFCL writes a native tool call: `name(k=repr(v),...)`. */
export function formatBfclCall(call: BfclCall): string {
  const args = [...call.positional.map((v) => pyRepr(v)), ...call.keyword.map(([k, v]) => `${k}=${pyRepr(v)}`)];
  return `${call.name}(${args.join(",")})`;
}
