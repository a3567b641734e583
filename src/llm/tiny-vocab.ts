// The byte-level vocabulary of the tiny models: the 256 byte tokens (id = byte value), a handful of real merges so
// that BPE actually runs, then the Qwen2 special tokens. Also renders it as an HF tokenizer.json.
import { byteToUnicode } from "./byte-level.js";

/** Qwen2's pre-tokenizer split (one digit per token, contractions, words, punctuation runs, newlines, spaces). */
export const qwen2SplitPattern =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Merges over byte-level text ("Ġ" is a space, "Ċ" a newline), in rank order; each part is an earlier token.
const mergePairs: [string, string][] = [
  ["Ġ", "t"], ["h", "e"], ["i", "n"], ["Ġ", "a"], ["e", "r"], ["o", "n"], ["r", "e"], ["Ġt", "he"], ["a", "t"],
  ["e", "n"], ["o", "r"], ["Ġ", "s"], ["a", "n"], ["Ġ", "c"], ["e", "s"], ["Ġ", "Ġ"], ["Ċ", "Ċ"], ["\"", ":"],
  ["Ġ", "\""], ["a", "m"], ["n", "am"], ["in", "g"], ["Ġ", "w"], ["Ġ", "f"],
];

export interface TinySpecialToken {
  content: string;
  /** Control tokens (special in HF); <tool_call> and </tool_call> are plain added tokens in Qwen2.5. */
  special: boolean;
}

export const tinySpecialTokens: TinySpecialToken[] = [
  { content: "<|endoftext|>", special: true },
  { content: "<|im_start|>", special: true },
  { content: "<|im_end|>", special: true },
  { content: "<tool_call>", special: false },
  { content: "</tool_call>", special: false },
];

export interface TinyVocab {
  /** Token text by id: byte-level spelling for byte and merged tokens, literal text for special tokens. */
  tokens: string[];
  /** "left right" strings, in rank order. */
  merges: string[];
  /** id of each special token by its text. */
  specialIds: Record<string, number>;
  /** ids from here on are added tokens. */
  firstAddedId: number;
}

export function buildTinyVocab(): TinyVocab {
  const tokens = Array.from({ length: 256 }, (_, byte) => byteToUnicode(byte));
  const known = new Set(tokens);
  for (const [left, right] of mergePairs) {
    if (!known.has(left) || !known.has(right)) throw new Error(`merge ${left} ${right} uses an unknown token`);
    tokens.push(left + right);
    known.add(left + right);
  }
  const firstAddedId = tokens.length;
  const specialIds: Record<string, number> = {};
  for (const token of tinySpecialTokens) {
    specialIds[token.content] = tokens.length;
    tokens.push(token.content);
  }
  return { tokens, merges: mergePairs.map(([l, r]) => `${l} ${r}`), specialIds, firstAddedId };
}

/** The HF `tokenizers` JSON of a Qwen2-style byte-level BPE tokenizer over this vocabulary. */
export function tinyTokenizerJson(vocab: TinyVocab): Record<string, unknown> {
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: tinySpecialTokens.map((token) => ({
      id: vocab.specialIds[token.content],
      content: token.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: token.special,
    })),
    normalizer: { type: "NFC" },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: qwen2SplitPattern }, behavior: "Isolated", invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab.tokens.slice(0, vocab.firstAddedId).map((token, id) => [token, id])),
      merges: vocab.merges,
    },
  };
}

export function tinyTokenizerConfigJson(vocab: TinyVocab, chatTemplate: string, maxPositions: number): Record<string, unknown> {
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(
      tinySpecialTokens.map((token) => [
        String(vocab.specialIds[token.content]),
        { content: token.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: token.special },
      ]),
    ),
    additional_special_tokens: ["<|im_start|>", "<|im_end|>"],
    bos_token: null,
    chat_template: chatTemplate,
    clean_up_tokenization_spaces: false,
    eos_token: "<|im_end|>",
    errors: "replace",
    model_max_length: maxPositions,
    pad_token: "<|endoftext|>",
    split_special_tokens: false,
    tokenizer_class: "Qwen2Tokenizer",
    unk_token: null,
  };
}
