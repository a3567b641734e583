// HF tokenizers use Oniguruma-flavoured regexes; JavaScript (Node 20) lacks one construct they use: scoped
// case-insensitive groups `(?i:...)`, as in Qwen2's and Llama 3's `(?i:'s|'t|'re|...)`. They are rewritten as
// plain groups with both cases spelled out ('S|'s ...).

function caseFold(inner: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < inner.length; i++) {
    const char = inner[i];
    if (char === "\\") {
      // \p{L} and \P{N} keep their braces untouched.
      const escape = /^\\[pP]\{[^}]*\}/.exec(inner.slice(i))?.[0] ?? inner.slice(i, i + 2);
      out += escape;
      i += escape.length - 1;
    } else if (char === "[" && !inClass) {
      inClass = true;
      out += char;
    } else if (char === "]" && inClass) {
      inClass = false;
      out += char;
    } else if (/[a-z]/i.test(char)) {
      const both = char.toLowerCase() + char.toUpperCase();
      out += inClass ? both : `[${both}]`;
    } else {
      out += char;
    }
  }
  return out;
}

/** The index of the `)` closing the group whose body starts at `start`. */
function groupEnd(pattern: string, start: number): number {
  let depth = 1;
  let inClass = false;
  for (let i = start; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "\\") i++;
    else if (inClass) inClass = char !== "]";
    else if (char === "[") inClass = true;
    else if (char === "(") depth++;
    else if (char === ")" && --depth === 0) return i;
  }
  throw new Error(`unbalanced group in regex ${pattern}`);
}

export function compileHfRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; ) {
    if (pattern.startsWith("(?i:", i)) {
      const end = groupEnd(pattern, i + 4);
      source += `(?:${caseFold(pattern.slice(i + 4, end))})`;
      i = end + 1;
    } else if (pattern[i] === "\\") {
      source += pattern.slice(i, i + 2);
      i += 2;
    } else {
      source += pattern[i++];
    }
  }
  return new RegExp(source, "gu");
}
