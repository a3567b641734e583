// A byte-level BPE tokenizer read from an HF `tokenizer.json` (GPT-2, Qwen2, Llama 3 style). Encoding runs the same
// stages as HF `tokenizers`: added tokens are matched first and never split; the rest is normalized, split by the
// pre-tokenizer regex, spelled as byte-level characters, and merged pair by pair in merge-rank order.
// What is not byte-level BPE (SentencePiece/Metaspace models, WordPiece) is refused with LLM_TOKENIZER_UNSUPPORTED.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { llmError } from "./errors.js";
import { bytesToUnicodeString, unicodeStringToBytes } from "./byte-level.js";
import { compileHfRegex } from "./hf-regex.js";

const gpt2SplitPattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const AddedToken = z.object({ id: z.number().int(), content: z.string(), special: z.boolean().default(false) });
const Component: z.ZodType<{ type: string; [key: string]: unknown }> = z.looseObject({ type: z.string() });
const TokenizerJson = z.looseObject({
  added_tokens: z.array(AddedToken).default([]),
  normalizer: Component.nullable().default(null),
  pre_tokenizer: Component.nullable().default(null),
  decoder: Component.nullable().default(null),
  model: z.looseObject({
    type: z.literal("BPE"),
    vocab: z.record(z.string(), z.number().int()),
    merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
    ignore_merges: z.boolean().default(false),
  }),
});

type PreTokenizeStep = (pieces: string[]) => string[];

export interface EncodeOptions {
  /** Match added tokens (<|im_start|>, <tool_call>, ...) in the text. Default true, as HF does. */
  parseSpecial?: boolean;
}

export class Tokenizer {
  private readonly vocab: Map<string, number>;
  private readonly idToText: string[] = [];
  private readonly mergeRanks = new Map<string, number>();
  private readonly added: { id: number; content: string; special: boolean }[];
  private readonly addedById = new Map<number, { content: string; special: boolean }>();
  private readonly addedFirstChars: Set<string>;
  private readonly normalize: (text: string) => string;
  private readonly preTokenize: PreTokenizeStep[];
  private readonly ignoreMerges: boolean;
  private readonly cache = new Map<string, number[]>();

  constructor(json: unknown) {
    const parsed = TokenizerJson.safeParse(json);
    if (!parsed.success) {
      throw llmError("LLM_TOKENIZER_UNSUPPORTED", `not a byte-level BPE tokenizer.json: ${z.prettifyError(parsed.error)}`);
    }
    const spec = parsed.data;
    this.vocab = new Map(Object.entries(spec.model.vocab));
    for (const [text, id] of this.vocab) this.idToText[id] = text;
    spec.model.merges.forEach((merge, rank) => {
      const [left, right] = typeof merge === "string" ? splitMerge(merge) : merge;
      this.mergeRanks.set(`${left}\u0000${right}`, rank);
    });
    // Longest first, so that "<tool_call>" never loses to a shorter added token that is its prefix.
    this.added = [...spec.added_tokens].sort((a, b) => b.content.length - a.content.length);
    for (const token of spec.added_tokens) {
      this.addedById.set(token.id, token);
      this.idToText[token.id] ??= token.content;
    }
    this.addedFirstChars = new Set(spec.added_tokens.map((t) => t.content[0]));
    this.ignoreMerges = spec.model.ignore_merges;
    this.normalize = buildNormalizer(spec.normalizer);
    this.preTokenize = buildPreTokenizer(spec.pre_tokenizer);
    checkDecoder(spec.decoder);
  }

  /** Reads `tokenizer.json` from a file or from a model directory. */
  static fromFile(path: string): Tokenizer {
    const file = statSync(path, { throwIfNoEntry: false })?.isDirectory() ? join(path, "tokenizer.json") : path;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw llmError("LLM_TOKENIZER_NOT_FOUND", `cannot read ${file}`, { cause: error });
    }
    return new Tokenizer(JSON.parse(text));
  }

  /** Number of ids, added tokens included. */
  get vocabSize(): number {
    return this.idToText.length;
  }

  tokenToId(token: string): number | undefined {
    return this.added.find((t) => t.content === token)?.id ?? this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToText[id];
  }

  /** Ids of the added tokens marked special (<|endoftext|>, <|im_start|>, ...). */
  get specialTokenIds(): number[] {
    return [...this.addedById].filter(([, t]) => t.special).map(([id]) => id);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    for (const segment of this.splitOnAdded(text, options.parseSpecial ?? true)) {
      if (typeof segment === "number") ids.push(segment);
      else for (const piece of this.preTokenize.reduce((pieces, step) => step(pieces), [this.normalize(segment)])) ids.push(...this.bpe(piece));
    }
    return ids;
  }

  decode(ids: number[], options: { skipSpecial?: boolean } = {}): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const added = this.addedById.get(id);
      if (added) {
        if (!(added.special && options.skipSpecial)) bytes.push(...Buffer.from(added.content, "utf8"));
        continue;
      }
      const text = this.idToText[id];
      if (text === undefined) throw llmError("LLM_TOKEN_UNKNOWN", `token id ${id} is not in the vocabulary`);
      const tokenBytes = unicodeStringToBytes(text);
      bytes.push(...(tokenBytes ?? Buffer.from(text, "utf8")));
    }
    return Buffer.from(bytes).toString("utf8");
  }

  /** Text segments and the ids of added tokens found between them. */
  private splitOnAdded(text: string, parseSpecial: boolean): (string | number)[] {
    if (!parseSpecial || this.added.length === 0) return text ? [text] : [];
    const out: (string | number)[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const match = this.addedFirstChars.has(text[i]) && this.added.find((t) => text.startsWith(t.content, i));
      if (match) {
        if (i > start) out.push(text.slice(start, i));
        out.push(match.id);
        i += match.content.length;
        start = i;
      } else {
        i++;
      }
    }
    if (start < text.length) out.push(text.slice(start));
    return out;
  }

  /** Merges one pre-tokenized piece (already in byte-level characters). */
  private bpe(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    let symbols: string[];
    if (this.ignoreMerges && this.vocab.has(piece)) {
      symbols = [piece];
    } else {
      symbols = [...piece];
      for (;;) {
        let best = -1;
        let bestRank = Infinity;
        for (let i = 0; i + 1 < symbols.length; i++) {
          const rank = this.mergeRanks.get(`${symbols[i]}\u0000${symbols[i + 1]}`);
          if (rank !== undefined && rank < bestRank) {
            bestRank = rank;
            best = i;
          }
        }
        if (best < 0) break;
        symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
      }
    }
    const ids = symbols.map((symbol) => {
      const id = this.vocab.get(symbol);
      if (id === undefined) throw llmError("LLM_TOKEN_UNKNOWN", `no token for '${symbol}' in the vocabulary`);
      return id;
    });
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }
}

function splitMerge(merge: string): [string, string] {
  const space = merge.indexOf(" ", 1);
  if (space < 0) throw llmError("LLM_TOKENIZER_UNSUPPORTED", `bad merge '${merge}'`);
  return [merge.slice(0, space), merge.slice(space + 1)];
}

function unsupported(what: string, type: string): never {
  throw llmError("LLM_TOKENIZER_UNSUPPORTED", `${what} '${type}' is not supported (byte-level BPE only)`);
}

function buildNormalizer(spec: { type: string; [key: string]: unknown } | null): (text: string) => string {
  if (!spec) return (text) => text;
  switch (spec.type) {
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD":
      return (text) => text.normalize(spec.type as "NFC");
    case "Lowercase":
      return (text) => text.toLowerCase();
    case "Sequence": {
      const steps = (spec.normalizers as { type: string }[]).map(buildNormalizer);
      return (text) => steps.reduce((t, step) => step(t), text);
    }
    default:
      return unsupported("normalizer", spec.type);
  }
}

function splitByRegex(regex: RegExp, behavior: string): PreTokenizeStep {
  if (behavior !== "Isolated" && behavior !== "Removed") unsupported("split behaviour", behavior);
  return (pieces) =>
    pieces.flatMap((piece) => {
      const out: string[] = [];
      let last = 0;
      for (const match of piece.matchAll(regex)) {
        if (match[0].length === 0) continue;
        if (match.index > last) out.push(piece.slice(last, match.index));
        if (behavior === "Isolated") out.push(match[0]);
        last = match.index + match[0].length;
      }
      if (last < piece.length) out.push(piece.slice(last));
      return out;
    });
}

function buildPreTokenizer(spec: { type: string; [key: string]: unknown } | null): PreTokenizeStep[] {
  if (!spec) return [];
  switch (spec.type) {
    case "Sequence":
      return (spec.pretokenizers as { type: string }[]).flatMap(buildPreTokenizer);
    case "Split": {
      const pattern = spec.pattern as { Regex?: string; String?: string };
      if (spec.invert) unsupported("split option", "invert");
      const regex =
        pattern.Regex !== undefined
          ? compileHfRegex(pattern.Regex)
          : new RegExp((pattern.String ?? "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gu");
      return [splitByRegex(regex, String(spec.behavior ?? "Isolated"))];
    }
    case "Digits":
      return [splitByRegex(spec.individual_digits ? /\p{N}/gu : /\p{N}+/gu, "Isolated")];
    case "ByteLevel": {
      const steps: PreTokenizeStep[] = [];
      if (spec.add_prefix_space) steps.push((pieces) => pieces.map((p, i) => (i === 0 && !p.startsWith(" ") ? ` ${p}` : p)));
      if (spec.use_regex ?? true) steps.push(splitByRegex(compileHfRegex(gpt2SplitPattern), "Isolated"));
      steps.push((pieces) => pieces.map((p) => bytesToUnicodeString(Buffer.from(p, "utf8"))));
      return steps;
    }
    default:
      return unsupported("pre-tokenizer", spec.type);
  }
}

function checkDecoder(spec: { type: string; [key: string]: unknown } | null): void {
  if (!spec || spec.type === "ByteLevel") return;
  if (spec.type === "Sequence") return (spec.decoders as { type: string }[]).forEach((d) => checkDecoder(d));
  unsupported("decoder", spec.type);
}
