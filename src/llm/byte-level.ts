// GPT-2's byte-to-unicode table: byte-level BPE vocabularies (GPT-2, Qwen2, Llama 3) spell every byte as one
// printable character, so that a token's text never contains raw whitespace or control bytes.
// Printable Latin-1 bytes keep their own code point; the other 68 bytes move to U+0100 onward, in byte order.

function buildTables(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const byteToChar: string[] = new Array(256);
  let next = 0;
  for (let b = 0; b < 256; b++) byteToChar[b] = String.fromCodePoint(printable(b) ? b : 256 + next++);
  const charToByte = new Map(byteToChar.map((char, byte) => [char, byte] as const));
  return { byteToChar, charToByte };
}

const tables = buildTables();

/** The printable character that stands for `byte` in a byte-level BPE vocabulary (0x20 -> "Ġ", 0x0a -> "Ċ"). */
export function byteToUnicode(byte: number): string {
  return tables.byteToChar[byte];
}

/** UTF-8 bytes of `text`, each spelled as its byte-level character. */
export function bytesToUnicodeString(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += tables.byteToChar[byte];
  return out;
}

/** The bytes a byte-level token spells; undefined when a character is not one of the 256 byte characters. */
export function unicodeStringToBytes(text: string): Uint8Array | undefined {
  const out: number[] = [];
  for (const char of text) {
    const byte = tables.charToByte.get(char);
    if (byte === undefined) return undefined;
    out.push(byte);
  }
  return Uint8Array.from(out);
}
