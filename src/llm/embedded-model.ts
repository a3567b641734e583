// A GGUF model run in-process by node-llama-cpp (llama.cpp). One loaded model is shared by everyone who asks for the
// same file; each EmbeddedModel holds one llama.cpp context whose sequences form a pool, so concurrent calls run in
// the same batches. Each call takes the free sequence whose cached tokens share the longest prefix with its prompt
// and evaluates only the rest (multi-turn agents re-send a growing prompt).
// Sampling reports, for each sampled token, its probability under the sampling distribution (temperature applied,
// top-k off, top-p as asked), which is what llama.cpp calls the token's confidence; top logprobs come from the same
// distribution, so the sampled token's logprob is its own entry there.
// Completion text never contains control tokens (<|im_start|>...): they are tokens, not text. User-defined added
// tokens such as Qwen's <tool_call> are text.
import { existsSync } from "node:fs";
import { basename, isAbsolute, resolve } from "node:path";
import type { Llama, LlamaContext, LlamaContextSequence, LlamaGrammar, LlamaModel, Token } from "node-llama-cpp";
import { unicodeStringToBytes } from "./byte-level.js";
import { DeltaStream, mostLikely } from "./delta-stream.js";
import { contextOverflowError, llmError } from "./errors.js";
import type { CompletionDelta, SampleRequest, SampleResult, TextTokenizer, TokenLogprob, TokenSampler } from "./types.js";

export interface EmbeddedModelOptions {
  /** A GGUF file path (a relative one is read from the working directory), or a URI node-llama-cpp resolves and
   * downloads (`hf:user/repo:quant`, https://...). */
  model: string;
  /** false: CPU only (default); "auto": let node-llama-cpp pick CUDA/Metal/Vulkan when present. */
  gpu?: false | "auto";
  /** Where `hf:` and URL models are downloaded to (node-llama-cpp's default models folder otherwise). */
  modelsDirectory?: string;
  /** Tokens per sequence; default the model's own context length (GGUF `<arch>.context_length`). Every sequence
   * holds its own KV cache of this many tokens, so a long-context model with many sequences may need a smaller one. */
  contextSize?: number;
  /** Parallel sequences, i.e. how many calls run at once; more wait. Default 2. */
  sequences?: number;
  /**
   * CPU threads per evaluation. Default: the machine's math cores less one, leaving a core to the event loop, the
   * environments and other processes: llama.cpp's workers spin while they wait, and on oversubscribed cores
   * generation slows many times over (node-llama-cpp's own default, 4, did so on a 2-core machine).
   */
  threads?: number;
  batchSize?: number;
}

export interface GenerateRequest extends SampleRequest {
  /** Strings that end the completion (the completion text stops before them; the sampled tokens are kept). */
  stopStrings?: string[];
  /** Constrain sampling to JSON matching this JSON Schema. */
  jsonSchema?: Record<string, unknown>;
  /** Constrain sampling to a GBNF grammar whose start rule is `root` (see tool-call-grammar.ts). */
  grammar?: { gbnf: string; root: string };
  /** Report logprobs (costs a softmax per token on large vocabularies). Default true. */
  logprobs?: boolean;
  /** Also report the k most likely tokens at each position (needs the whole distribution: slower). */
  topLogprobs?: number;
  /** Streaming: called in order as text becomes final; the deltas' text joined is `text`, their tokens `tokens`. */
  onDelta?: (delta: CompletionDelta) => void;
}

export interface GenerateResult extends SampleResult {
  /** Decoded completion, without a final end-of-generation token and cut before a stop string. */
  text: string;
  /** With `topLogprobs`: the most likely tokens at each position, most likely first. */
  topLogprobs?: TokenLogprob[][];
}

/** The GGUF vocabulary fields read to spell tokens as bytes. */
interface GgufVocabulary {
  model?: string;
  tokens?: readonly string[];
  token_type?: readonly number[];
  bos_token_id?: number;
  eos_token_id?: number;
  eot_token_id?: number;
  padding_token_id?: number;
  unknown_token_id?: number;
}

interface SharedModel {
  llama: Llama;
  model: LlamaModel;
  users: number;
  lib: NodeLlamaCpp;
}

// node-llama-cpp is some 300 modules: imported when a model is first loaded, not by everyone who imports the llm
// folder (the CLI's light commands, the store, the environments).
type NodeLlamaCpp = typeof import("node-llama-cpp");
let nodeLlamaCpp: Promise<NodeLlamaCpp> | undefined;
const loadNodeLlamaCpp = (): Promise<NodeLlamaCpp> => (nodeLlamaCpp ??= import("node-llama-cpp"));

const sharedModels = new Map<string, Promise<SharedModel>>();
// getLlama loads the native binding (~2 s) and does not cache it, so one instance per GPU setting is kept here.
const llamas = new Map<string, Promise<Llama>>();

function sharedLlama(gpu: false | "auto"): Promise<Llama> {
  let llama = llamas.get(String(gpu));
  if (!llama) {
    llama = loadNodeLlamaCpp().then(({ getLlama }) => getLlama({ gpu, build: "never" }));
    llamas.set(String(gpu), llama);
    llama.catch(() => llamas.delete(String(gpu)));
  }
  return llama;
}

async function acquireSharedModel(path: string, gpu: false | "auto"): Promise<SharedModel> {
  const key = `${gpu}:${path}`;
  let entry = sharedModels.get(key);
  if (!entry) {
    entry = (async () => {
      const llama = await sharedLlama(gpu);
      const model = await llama.loadModel({ modelPath: path });
      return { llama, model, users: 0, lib: await loadNodeLlamaCpp() };
    })();
    sharedModels.set(key, entry);
    entry.catch(() => sharedModels.delete(key));
  }
  const shared = await entry;
  shared.users++;
  return shared;
}

async function releaseSharedModel(path: string, gpu: false | "auto", shared: SharedModel): Promise<void> {
  if (--shared.users > 0) return;
  sharedModels.delete(`${gpu}:${path}`);
  await shared.model.dispose();
}

export class EmbeddedModel implements TokenSampler {
  readonly id: string;
  readonly tokenizer: TextTokenizer;
  private readonly free: LlamaContextSequence[];
  private readonly waiting: ((sequence: LlamaContextSequence) => void)[] = [];
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  private constructor(
    private readonly shared: SharedModel,
    private readonly context: LlamaContext,
    private readonly path: string,
    private readonly gpu: false | "auto",
  ) {
    this.id = `embedded:${basename(path)}`;
    const model = shared.model;
    this.tokenizer = { encode: (text) => model.tokenize(text, true), decode: (tokens) => model.detokenize(tokens as Token[], true) };
    this.free = Array.from({ length: context.totalSequences }, () => context.getSequence());
  }

  static async load(options: EmbeddedModelOptions): Promise<EmbeddedModel> {
    const gpu = options.gpu ?? false;
    let path: string;
    if (isLocalPath(options.model)) {
      // node-llama-cpp would look a relative path up in its own models folder; a user means the working directory.
      path = resolve(options.model);
      if (!existsSync(path)) throw llmError("LLM_MODEL_NOT_FOUND", `no model file at ${path}`, { details: { model: options.model, path } });
    } else {
      try {
        const { resolveModelFile } = await loadNodeLlamaCpp();
        path = await resolveModelFile(options.model, { directory: options.modelsDirectory, cli: false });
      } catch (error) {
        throw llmError("LLM_MODEL_NOT_FOUND", `cannot resolve model '${options.model}': ${(error as Error).message}`, { cause: error });
      }
    }
    let shared: SharedModel;
    try {
      shared = await acquireSharedModel(path, gpu);
    } catch (error) {
      throw llmError("LLM_MODEL_LOAD", `cannot load ${path}: ${(error as Error).message}`, { cause: error });
    }
    const contextSize = options.contextSize ?? shared.model.trainContextSize;
    const sequences = options.sequences ?? 2;
    try {
      const context = await shared.model.createContext({
        contextSize,
        sequences,
        threads: options.threads ?? Math.max(1, shared.llama.cpuMathCores - 1),
        batchSize: options.batchSize,
      });
      return new EmbeddedModel(shared, context, path, gpu);
    } catch (error) {
      await releaseSharedModel(path, gpu, shared);
      const which = options.contextSize === undefined ? "the model's own context length" : "as asked";
      throw llmError(
        "LLM_MODEL_LOAD",
        `cannot create a context of ${contextSize} tokens (${which}) × ${sequences} sequences for ${path}: ${(error as Error).message}; ` +
          "a smaller context size or fewer sequences need less memory",
        { cause: error, details: { contextSize, sequences } },
      );
    }
  }

  /** Tokens each sequence holds. */
  get contextSize(): number {
    return this.context.contextSize;
  }

  /** The underlying node-llama-cpp model (benchmarks and advanced use). */
  get llamaModel(): LlamaModel {
    return this.shared.model;
  }

  isEndOfGeneration(token: number): boolean {
    return this.shared.model.isEogToken(token as Token);
  }

  async sample(request: SampleRequest): Promise<SampleResult> {
    const { tokens, logprobs, stopReason } = await this.generate({ ...request, logprobs: true });
    return { tokens, logprobs, stopReason };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const prompt = request.promptTokens as Token[];
    if (prompt.length === 0) throw llmError("LLM_BAD_REQUEST", "the prompt has no tokens");
    if (prompt.length >= this.contextSize) throw contextOverflowError(prompt.length, this.contextSize);
    const maxTokens = Math.min(request.maxTokens, this.contextSize - prompt.length);
    const grammar = request.grammar
      ? await this.grammarFor(`gbnf:${request.grammar.root}:${request.grammar.gbnf}`, () =>
          this.shared.llama.createGrammar({ grammar: request.grammar!.gbnf, rootRuleName: request.grammar!.root }),
        )
      : request.jsonSchema
        ? await this.grammarFor(`json:${JSON.stringify(request.jsonSchema)}`, () => this.shared.llama.createGrammarForJsonSchema(request.jsonSchema as never))
        : undefined;
    const sequence = await this.acquire(prompt);
    try {
      return await this.run(sequence, prompt, maxTokens, request, grammar);
    } finally {
      this.release(sequence);
    }
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await releaseSharedModel(this.path, this.gpu, this.shared);
  }

  private async run(
    sequence: LlamaContextSequence,
    prompt: Token[],
    maxTokens: number,
    request: GenerateRequest,
    grammar: LlamaGrammar | undefined,
  ): Promise<GenerateResult> {
    // Keep the cached prefix; at least the last prompt token is evaluated again, since its logits give the first sample.
    const keep = Math.min(sequence.compareContextTokens(prompt).firstDifferentIndex, prompt.length - 1);
    if (keep < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    const stopTokens = new Set(request.stopTokens ?? []);
    const stopStrings = (request.stopStrings ?? []).filter((s) => s.length > 0);
    const tokens: number[] = [];
    const logprobs: number[] = [];
    const wantLogprobs = request.logprobs ?? true;
    const topCount = wantLogprobs ? (request.topLogprobs ?? 0) : 0;
    const topLogprobs: TokenLogprob[][] = [];
    const stream = request.onDelta ? new DeltaStream(request.onDelta, stopStrings, tokens, wantLogprobs ? logprobs : undefined, topCount > 0 ? topLogprobs : undefined) : undefined;
    let stopReason: "stop" | "length" = "length";
    let stopAt: number | undefined;
    const iterator = sequence.evaluateWithMetadata(
      prompt.slice(keep),
      { confidence: wantLogprobs, probabilities: topCount > 0 },
      {
        temperature: request.temperature ?? 1,
        topP: request.topP ?? 1,
        topK: 0,
        minP: 0,
        seed: request.seed ?? Math.floor(Math.random() * 2 ** 31),
        yieldEogToken: true,
        grammarEvaluationState: grammar ? new this.shared.lib.LlamaGrammarEvaluationState({ model: this.shared.model, grammar }) : undefined,
      },
    );
    if (maxTokens > 0) {
      for await (const output of iterator) {
        if (request.signal?.aborted) throw llmError("LLM_ABORTED", "generation aborted", { cause: request.signal.reason });
        tokens.push(output.token);
        if (wantLogprobs) logprobs.push(Math.log((output as { confidence?: number }).confidence ?? NaN));
        if (topCount > 0) topLogprobs.push(mostLikely((output as { probabilities?: Map<Token, number> }).probabilities, topCount));
        if (this.isEndOfGeneration(output.token) || stopTokens.has(output.token)) {
          stopReason = "stop";
          break;
        }
        if (stopStrings.length > 0 || stream) {
          const text = this.decodeText(tokens);
          const found = firstStop(text, stopStrings);
          if (found !== undefined) {
            stopAt = found;
            stopReason = "stop";
            break;
          }
          stream?.progress(text);
        }
        if (tokens.length >= maxTokens) break;
      }
    }
    const last = tokens[tokens.length - 1];
    const textTokens = last !== undefined && (this.isEndOfGeneration(last) || stopTokens.has(last)) ? tokens.slice(0, -1) : tokens;
    let text = this.decodeText(textTokens);
    if (stopAt !== undefined) text = text.slice(0, stopAt);
    stream?.finish(text);
    return { tokens, logprobs, stopReason, text, ...(topCount > 0 ? { topLogprobs } : {}) };
  }

  /** Completion text: control tokens are left out. */
  decodeText(tokens: number[]): string {
    return this.shared.model.detokenize(tokens as Token[], false);
  }

  /** The chat template the GGUF carries (tokenizer.chat_template) and the special tokens' texts it reads. */
  chatTemplateSpec(): { template?: string; specialTokens: Record<string, string> } {
    const tokenizer = (this.shared.model.fileInfo.metadata as { tokenizer?: { chat_template?: string; ggml?: GgufVocabulary } }).tokenizer;
    const vocabulary = tokenizer?.ggml;
    const specialTokens: Record<string, string> = {};
    const names = { bos_token: vocabulary?.bos_token_id, eos_token: vocabulary?.eos_token_id, pad_token: vocabulary?.padding_token_id, unk_token: vocabulary?.unknown_token_id };
    for (const [name, id] of Object.entries(names)) {
      const text = id === undefined ? undefined : vocabulary?.tokens?.[id];
      if (text !== undefined) specialTokens[name] = text;
    }
    return { template: tokenizer?.chat_template, specialTokens };
  }

  /** A token's text (control tokens spelled out; half a UTF-8 character is U+FFFD) and its exact bytes. */
  tokenInfo(id: number): { text: string; bytes: Uint8Array } {
    const text = this.shared.model.detokenize([id as Token], true);
    return { text, bytes: this.tokenBytes(id) ?? Buffer.from(text, "utf8") };
  }

  /**
   * The bytes a token stands for, read from the GGUF vocabulary: a byte-level BPE piece ("Ġ" is a space, "Ã" the
   * byte 0xC3), a SentencePiece byte token (<0x0A>) or "▁" for a space; added tokens are their own text.
   */
  private tokenBytes(id: number): Uint8Array | undefined {
    const vocabulary = (this.shared.model.fileInfo.metadata as { tokenizer?: { ggml?: GgufVocabulary } }).tokenizer?.ggml;
    const piece = vocabulary?.tokens?.[id];
    if (piece === undefined) return undefined;
    const normal = (vocabulary?.token_type?.[id] ?? 1) === 1;
    if (normal && vocabulary?.model === "gpt2") return unicodeStringToBytes(piece);
    if (normal && vocabulary?.model === "llama") {
      const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
      return byte ? Uint8Array.of(parseInt(byte[1], 16)) : Buffer.from(piece.replaceAll("\u2581", " "), "utf8");
    }
    return normal ? undefined : Buffer.from(piece, "utf8");
  }

  /**
   * GBNF rules for JSON matching a schema (node-llama-cpp's converter), with the start rule named `name`. The
   * converter ends its start rule with "\n\n\n\n" [\n]* (its way of ending generation); that is cut off so the
   * rules can sit inside a larger grammar.
   */
  async jsonSchemaRules(schema: Record<string, unknown>, name: string): Promise<string> {
    let gbnf: string;
    try {
      gbnf = (await this.shared.llama.createGrammarForJsonSchema(schema as never)).grammar;
    } catch (error) {
      throw llmError("LLM_BAD_REQUEST", `unsupported JSON schema: ${(error as Error).message}`, { cause: error });
    }
    const ending = ' "\\n\\n\\n\\n" [\\n]*';
    const lines = gbnf.split("\n");
    const root = lines.findIndex((line) => line.startsWith("root ::= "));
    if (root < 0 || !lines[root].endsWith(ending)) throw llmError("LLM_BAD_REQUEST", "node-llama-cpp's JSON grammar has an unexpected shape");
    lines[root] = `${name} ::= ${lines[root].slice("root ::= ".length, -ending.length)}`;
    return lines.join("\n");
  }

  private grammarFor(key: string, create: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    let grammar = this.grammars.get(key);
    if (!grammar) {
      grammar = create();
      this.grammars.set(key, grammar);
      grammar.catch(() => this.grammars.delete(key));
    }
    return grammar.catch((error) => {
      throw llmError("LLM_BAD_REQUEST", `unsupported grammar or JSON schema: ${(error as Error).message}`, { cause: error });
    });
  }

  private acquire(prompt: Token[]): Promise<LlamaContextSequence> {
    if (this.free.length === 0) return new Promise((resolve) => this.waiting.push(resolve));
    let best = 0;
    let bestShared = -1;
    this.free.forEach((sequence, index) => {
      const shared = sequence.compareContextTokens(prompt).firstDifferentIndex;
      if (shared > bestShared) [best, bestShared] = [index, shared];
    });
    return Promise.resolve(this.free.splice(best, 1)[0]);
  }

  private release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next) next(sequence);
    else this.free.push(sequence);
  }
}

/** A file on this machine rather than a URI for node-llama-cpp to resolve (hf:, https:, ...). */
function isLocalPath(model: string): boolean {
  return isAbsolute(model) || !/^[a-z][a-z0-9+.-]*:/i.test(model);
}

function firstStop(text: string, stops: string[]): number | undefined {
  let first: number | undefined;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}
