// A small JSON reader that keeps the source text of every value. Tool-call arguments must reach the environment
// exactly as the model wrote them: `JSON.parse` turns `10.0` into `10`, and BFCL's Python backends tell a float
// from an int. So we validate with this reader and pass spans of the original text along.
export type JsonNode =
  | { type: "object"; start: number; end: number; entries: { key: string; value: JsonNode }[] }
  | { type: "array"; start: number; end: number; items: JsonNode[] }
  | { type: "string"; start: number; end: number; value: string }
  | { type: "number" | "true" | "false" | "null"; start: number; end: number };

export class JsonTextError extends Error {}

/** Parses JSON text into nodes that point back into `text`; throws JsonTextError naming the offset. */
export function readJsonText(text: string): JsonNode {
  let i = 0;
  const fail = (what: string): never => {
    throw new JsonTextError(`${what} at offset ${i}`);
  };
  const skip = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const readString = (): JsonNode => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i++;
      else if (text.charCodeAt(i) < 0x20) fail("control character in string");
      i++;
    }
    if (i >= text.length) fail("unterminated string");
    i++;
    let value: string;
    try {
      value = JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail("bad escape in string");
    }
    return { type: "string", start, end: i, value };
  };
  const readValue = (): JsonNode => {
    skip();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const entries: { key: string; value: JsonNode }[] = [];
      skip();
      if (text[i] === "}") return i++, { type: "object", start, end: i, entries };
      for (;;) {
        skip();
        if (text[i] !== '"') fail("expected a key");
        const key = readString() as { value: string };
        skip();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        entries.push({ key: key.value, value: readValue() });
        skip();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return i++, { type: "object", start, end: i, entries };
        else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const items: JsonNode[] = [];
      skip();
      if (text[i] === "]") return i++, { type: "array", start, end: i, items };
      for (;;) {
        items.push(readValue());
        skip();
        if (text[i] === ",") i++;
        else if (text[i] === "]") return i++, { type: "array", start, end: i, items };
        else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return readString();
    for (const word of ["true", "false", "null"] as const) {
      if (text.startsWith(word, i)) return (i += word.length), { type: word, start, end: i };
    }
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match) return fail(c === undefined ? "unexpected end of input" : `unexpected character '${c}'`);
    i += match[0].length;
    return { type: "number", start, end: i };
  };
  const node = readValue();
  skip();
  if (i !== text.length) fail("trailing characters");
  return node;
}

/** The value of `key` in an object node, if present. */
export function objectEntry(node: JsonNode, key: string): JsonNode | undefined {
  return node.type === "object" ? node.entries.find((entry) => entry.key === key)?.value : undefined;
}

/** A JSON value written as a Python literal (BFCL's call syntax): numbers keep their lexeme, so 10.0 stays a float. */
export function toPythonLiteral(text: string, node: JsonNode): string {
  switch (node.type) {
    case "object":
      return `{${node.entries.map((e) => `${pythonString(e.key)}: ${toPythonLiteral(text, e.value)}`).join(", ")}}`;
    case "array":
      return `[${node.items.map((item) => toPythonLiteral(text, item)).join(", ")}]`;
    case "string":
      return pythonString(node.value);
    case "true":
      return "True";
    case "false":
      return "False";
    case "null":
      return "None";
    case "number":
      return text.slice(node.start, node.end);
  }
}

/** Python's repr of a str: single quotes unless the text holds a single quote and no double quote. */
export function pythonString(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of value) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  return out + quote;
}
