// A real family's tokenizer (tokenizer.json + tokenizer_config.json) as a tiny model's vocabulary: the GGUF tokenizer
// metadata llama.cpp reads (token texts and types, merges or scores, special ids, pre-tokenizer name, chat template)
// and the files the HF folder keeps as they are. With it, llama.cpp, the trainer and the rollouts all run on the real
// vocabulary and template (a BFCL prompt then has its real length).
// Byte-level BPE families (Qwen2/2.5/3, Llama 3.x) become llama.cpp's "gpt2" tokenizer; SentencePiece-style BPE with
// byte fallback (Llama 2, Gemma, Mistral) its "llama" tokenizer, scored by merge order.
import { llmError } from "./errors.js";
import { gguf, type GgufValue } from "./gguf-writer.js";
import { configChatTemplate, configSpecialTokens } from "./model-template.js";
import { readTokenizerFiles, type TokenizerFiles } from "./model-tokenizer.js";

export interface FamilyVocab {
  files: TokenizerFiles;
  /** Token text by id (gaps filled with unused placeholders). */
  tokens: string[];
  chatTemplate: string;
  /** The GGUF tokenizer.* metadata. */
  ggufMetadata: Record<string, GgufValue>;
  bosId?: number;
  eosId: number;
}

// llama.cpp token types
const NORMAL = 1;
const UNKNOWN = 2;
const CONTROL = 3;
const USER_DEFINED = 4;
const UNUSED = 5;
const BYTE = 6;

interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
}

/** Reads a family's tokenizer from a model folder or package; `chatTemplate` replaces a missing or other template. */
export function readFamilyVocab(source: string, chatTemplate?: string): FamilyVocab {
  const files = readTokenizerFiles(source);
  const model = files.tokenizerJson.model as { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; byte_fallback?: boolean };
  if (model?.type !== "BPE" || !model.vocab || !model.merges) {
    throw llmError("LLM_TINY_OPTIONS", `${files.dir}: only BPE tokenizers (byte-level or SentencePiece-style) can be written to a GGUF here; this one is ${model?.type ?? "unknown"}`);
  }
  const added = (files.tokenizerJson.added_tokens ?? []) as AddedToken[];
  let size = 0;
  for (const id of [...Object.values(model.vocab), ...added.map((t) => t.id)]) size = Math.max(size, id + 1);
  const tokens: string[] = new Array(size);
  for (const [text, id] of Object.entries(model.vocab)) tokens[id] = text;
  for (const token of added) tokens[token.id] = token.content;
  const addedById = new Map(added.map((t) => [t.id, t]));
  const specials = configSpecialTokens(files.tokenizerConfig);
  const idOf = (text: string | undefined) => {
    const id = text === undefined ? -1 : tokens.indexOf(text);
    return id >= 0 ? id : undefined;
  };
  const template = chatTemplate ?? (() => {
    const found = configChatTemplate(files);
    return typeof found === "string" ? found : (found.find((t) => t.name === "default")?.template ?? found[0].template);
  })();
  const eosId = idOf(specials.eos_token);
  if (eosId === undefined) throw llmError("LLM_TINY_OPTIONS", `${files.dir}: tokenizer_config.json names no eos_token in the vocabulary`);
  const bosId = idOf(specials.bos_token);

  const byteLevel = JSON.stringify(files.tokenizerJson.pre_tokenizer ?? "").includes("ByteLevel");
  const types = tokens.map((text, id) => {
    if (text === undefined) return UNUSED;
    const addedToken = addedById.get(id);
    if (addedToken) return addedToken.special ? CONTROL : USER_DEFINED;
    if (!byteLevel && /^<0x[0-9A-F]{2}>$/.test(text)) return BYTE;
    if (!byteLevel && text === "<unk>") return UNKNOWN;
    return NORMAL;
  });
  const filled = tokens.map((text, id) => text ?? `[evolver_unused_${id}]`);
  const merges = model.merges.map((merge) => (typeof merge === "string" ? merge : `${merge[0]} ${merge[1]}`));
  const metadata: Record<string, GgufValue> = {
    "tokenizer.ggml.tokens": gguf.strings(filled),
    "tokenizer.ggml.token_type": gguf.i32s(types),
    "tokenizer.ggml.eos_token_id": gguf.u32(eosId),
    "tokenizer.chat_template": gguf.str(template),
    "tokenizer.ggml.add_bos_token": gguf.bool(false),
  };
  if (bosId !== undefined) metadata["tokenizer.ggml.bos_token_id"] = gguf.u32(bosId);
  const padId = idOf(specials.pad_token);
  if (padId !== undefined) metadata["tokenizer.ggml.padding_token_id"] = gguf.u32(padId);
  if (byteLevel) {
    metadata["tokenizer.ggml.model"] = gguf.str("gpt2");
    metadata["tokenizer.ggml.pre"] = gguf.str(llamaCppPreTokenizer(files, tokens));
    metadata["tokenizer.ggml.merges"] = gguf.strings(merges);
  } else {
    // SentencePiece scoring: a piece made by an earlier merge scores higher; pieces no merge makes (single
    // characters, bytes, specials) score lowest, so llama.cpp merges in the order the merges list gives.
    const rank = new Map<string, number>();
    merges.forEach((merge, index) => {
      const piece = merge.replace(" ", "");
      if (!rank.has(piece)) rank.set(piece, index);
    });
    metadata["tokenizer.ggml.model"] = gguf.str("llama");
    metadata["tokenizer.ggml.scores"] = gguf.f32s(filled.map((text) => -(rank.get(text) ?? merges.length)));
    const unk = idOf(specials.unk_token);
    if (unk !== undefined) metadata["tokenizer.ggml.unknown_token_id"] = gguf.u32(unk);
    metadata["tokenizer.ggml.add_space_prefix"] = gguf.bool(JSON.stringify(files.tokenizerJson.normalizer ?? "").includes("Prepend"));
  }
  return { files, tokens: filled, chatTemplate: template, ggufMetadata: metadata, bosId, eosId };
}

/** The name llama.cpp knows this byte-level family's pre-tokenizer regex by. */
function llamaCppPreTokenizer(files: TokenizerFiles, tokens: string[]): string {
  if (files.tokenizerConfig.tokenizer_class === "Qwen2Tokenizer" || tokens.includes("<|im_start|>")) return "qwen2";
  if (tokens.includes("<|begin_of_text|>")) return "llama-bpe";
  throw llmError(
    "LLM_TINY_OPTIONS",
    `${files.dir}: a byte-level tokenizer whose pre-tokenizer llama.cpp would not know by name (known here: Qwen2/2.5/3 → qwen2, Llama 3.x → llama-bpe)`,
  );
}
