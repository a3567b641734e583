// Python str semantics that JavaScript strings do not share: Python counts and orders code points (JS counts
// UTF-16 code units), and str.splitlines()/str.split() know more line breaks and spaces than JS's \n and \s.
// GorillaFileSystem's wc, sort, tail, diff and grep results depend on these exactly.

// str.splitlines() boundaries: \n \r \r\n \v \f \x1c \x1d \x1e \x85 \u2028 \u2029.
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** Python `text.splitlines()`: no empty last line after a trailing break, `[]` for "". */
export function pySplitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(LINE_BREAK);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

// Py_UNICODE_ISSPACE: ASCII \t-\r, \x1c-\x1f and space, plus the Unicode White_Space / bidi B,S,WS characters.
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** Python `text.split()` with no separator: runs of whitespace split, no empty strings. */
export function pySplitWhitespace(text: string): string[] {
  return text.split(PY_WHITESPACE).filter((part) => part.length > 0);
}

/** Python `len(text)`: code points, not UTF-16 code units. */
export function pyLength(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) count--, i++;
    }
  }
  return count;
}

/** Python's str ordering (by code point) as a sort comparator. UTF-16 order differs only where a surrogate
 * (an astral character) meets a BMP character at or above U+E000, so those units are remapped. */
export function comparePyStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/** `len(text.encode("utf-8"))`. */
export function pyUtf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
