// JSON text as Python's json.dumps writes it (", " and ": " separators, non-ASCII kept), which is what HF chat
// templates produce with `| tojson`. Numbers are kept exactly as written, so "1.0" stays "1.0".

/** Re-spaces valid JSON text the Python way; returns undefined when the text is not valid JSON. */
export function pythonJsonText(text: string): string | undefined {
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
      out += JSON.stringify(JSON.parse(text.slice(i, end + 1)));
      i = end + 1;
    } else if (char === ",") {
      out += ", ";
      i++;
    } else if (char === ":") {
      out += ": ";
      i++;
    } else if (/\s/.test(char)) {
      i++;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

/** A JavaScript value as Python's json.dumps would write it. */
export function pythonJsonDumps(value: unknown): string {
  return pythonJsonText(JSON.stringify(value)) as string;
}
