// JSON text as Python's json.dumps writes it (", " and ": " separators, non-ASCII kept), which is what HF chat
// templates produce with `| tojson` from the arguments Python's json.loads read. Numbers are written as Python
// writes the value it reads: an integer exactly as its digits (however large), a float by Python's repr, so 1.0
// stays "1.0" (JavaScript would write 1), 1e16 is "1e+16" and 0.00001 is "1e-05".

/** A JSON number token as Python's json.dumps(json.loads(token)) writes it. */
export function pythonNumberText(token: string): string {
  if (!/[.eE]/.test(token)) return BigInt(token).toString(); // a Python int: exact, and -0 is 0
  const value = Number(token);
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  // toExponential() gives the shortest digits that read back as this double, as Python's repr does.
  const [mantissa, exponentText] = Math.abs(value).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  const sign = value < 0 ? "-" : "";
  // repr's rule: positional for exponents -4 through 15, else scientific with a signed exponent of two digits or more.
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : "";
    return `${sign}${digits[0]}${fraction}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  return `${sign}${whole}.${digits.slice(exponent + 1) || "0"}`;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Rewrites valid JSON text token by token; `number` gives each number token's replacement. Returns undefined when
 * the text is not valid JSON.
 */
export function mapJsonText(text: string, options: { number: (token: string) => string; pythonSpacing: boolean }): string | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  let out = "";
  for (let i = 0; i < text.length; ) {
    const char = text[i];
    if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      out += options.pythonSpacing ? JSON.stringify(JSON.parse(text.slice(i, end + 1))) : text.slice(i, end + 1);
      i = end + 1;
    } else if (char === "-" || (char >= "0" && char <= "9")) {
      NUMBER.lastIndex = i;
      const token = NUMBER.exec(text)![0];
      out += options.number(token);
      i += token.length;
    } else if (options.pythonSpacing && (char === "," || char === ":")) {
      out += `${char} `;
      i++;
    } else if (options.pythonSpacing && /\s/.test(char)) {
      i++;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

/** Re-spaces valid JSON text the Python way, numbers as Python writes them; undefined when the text is not valid JSON. */
export function pythonJsonText(text: string): string | undefined {
  return mapJsonText(text, { number: pythonNumberText, pythonSpacing: true });
}

/** A JavaScript value as Python's json.dumps would write it. */
export function pythonJsonDumps(value: unknown): string {
  return pythonJsonText(JSON.stringify(value)) as string;
}
