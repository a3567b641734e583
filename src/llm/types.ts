// What the agent needs from a model. Two faces:
// - `LlmProvider.chat`: messages in, an assistant message out (any OpenAI-compatible server, the embedded model,
//   a scripted provider in unit tests). Where the backend knows them, the exact prompt and completion token ids
//   and the completion logprobs come back too, so a trajectory never has to re-tokenize text.
// - `TokenSampler`: token ids in, token ids and logprobs out (the embedded model, the trainer's sampler).
//   Training rollouts use it together with a `ChatTemplate`, so that every trained token is the one sampled.
import { z } from "zod";
import type { ChatMessage, ToolSchema } from "../core/messages.js";

/**
 * Whether the model may or must call tools: "auto" (it decides; the default), "none" (no calls), "required" (one
 * call or more, to any of the tools), or one named function (exactly one call to it).
 */
export type ToolChoice = "auto" | "none" | "required" | { name: string };

/** A token and its logprob under the sampling distribution. */
export interface TokenLogprob {
  id: number;
  logprob: number;
}

/** A piece of a completion while it is generated: new text and the tokens that produced it. */
export interface CompletionDelta {
  /** Text that became final with these tokens (may be empty: a token can be half a character, or a possible stop string). */
  text: string;
  tokenIds: number[];
  /** With `logprobs`: one per token. */
  logprobs?: number[];
  /** With `topLogprobs`: the most likely alternatives at each token, most likely first. */
  topLogprobs?: TokenLogprob[][];
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSchema[];
  /** Default "auto". Backends enforce "required" and a named function where they can (the embedded model: a grammar). */
  toolChoice?: ToolChoice;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  /** Ask for per-token logprobs of the completion. */
  logprobs?: boolean;
  /** With `logprobs`: also the k most likely tokens at each position (0-20). */
  topLogprobs?: number;
  /** Streaming: called as the completion grows, in order; the deltas' text joined is `rawText`. Backends that cannot stream never call it. */
  onDelta?: (delta: CompletionDelta) => void;
  /** Constrain the output to JSON matching this JSON Schema (structured output). */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  signal?: AbortSignal;
}

export const FinishReason = z.enum(["stop", "length", "tool_calls", "error"]);
export type FinishReason = z.infer<typeof FinishReason>;

export interface ChatCompletion {
  /** The assistant message, with tool calls parsed where the backend parses them. */
  message: ChatMessage;
  finishReason: FinishReason;
  usage: { promptTokens: number; completionTokens: number };
  /** Exact token ids of the prompt as the backend rendered it, when known. */
  promptTokenIds?: number[];
  /** Exact sampled token ids of the completion, when known. */
  completionTokenIds?: number[];
  /** Logprob of each completion token under the sampling distribution, when asked for and known. */
  completionLogprobs?: number[];
  /** The `topLogprobs` most likely tokens at each completion position, when asked for and known. */
  completionTopLogprobs?: TokenLogprob[][];
  /** The completion text before tool-call parsing. */
  rawText?: string;
}

export interface LlmProvider {
  /** For logs and the run store, e.g. "openai:gpt-4o-mini" or "embedded:tiny.gguf". */
  readonly id: string;
  chat(request: ChatRequest): Promise<ChatCompletion>;
  /** The text and exact bytes of a token id, for backends that know their vocabulary (logprob entries). */
  tokenInfo?(id: number): { text: string; bytes: Uint8Array };
  /** How the model writes tool calls in its text (its chat template's syntax), for a server that reads them from a stream; default hermes. */
  readonly toolCallSyntax?: ToolCallSyntax;
  close?(): Promise<void>;
}

export interface SampleRequest {
  promptTokens: number[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  /** Token ids that end the sample (included in the returned tokens). */
  stopTokens?: number[];
  seed?: number;
  signal?: AbortSignal;
}

export interface SampleResult {
  tokens: number[];
  logprobs: number[];
  stopReason: "stop" | "length";
}

export interface TokenSampler {
  readonly id: string;
  sample(request: SampleRequest): Promise<SampleResult>;
}

/** Text to token ids and back; special tokens written in the text (e.g. "<|im_end|>") become their single ids. */
export interface TextTokenizer {
  encode(text: string): number[];
  decode(tokens: number[]): string;
}

/** How a model family writes tool calls: Qwen/Hermes <tool_call> JSON, Llama 3.1 JSON, Mistral [TOOL_CALLS]. */
export type ToolCallSyntax = "hermes" | "llama3-json" | "mistral";

export interface ContinuationOptions {
  /** The conversation so far (it ends with a finished turn); the template may render the new turns after it differently. */
  previous: ChatMessage[];
  /** The tools the conversation was rendered with. */
  tools?: ToolSchema[];
  addGenerationPrompt: boolean;
}

/**
 * Turns messages into token ids the way the model was trained to read them.
 * Turn boundaries: a rendering without the generation prompt ends with the last turn's stop token (<|im_end|>), and
 * whatever the template puts between turns (ChatML's "\n") starts the continuation. So for any split of a
 * conversation at a turn boundary, render(all) equals render(prefix) followed by renderContinuation(rest), and a
 * sampled assistant turn (which ends with its stop token) is followed directly by renderContinuation. A template for
 * which that does not hold throws LLM_TEMPLATE_NOT_APPEND_ONLY rather than drift.
 */
export interface ChatTemplate {
  /** Token ids of the whole conversation, ending with the header that asks the assistant to speak when `addGenerationPrompt`. */
  render(messages: ChatMessage[], options: { tools?: ToolSchema[]; addGenerationPrompt: boolean }): number[];
  /**
   * Token ids of messages that follow a finished turn (tool results, a user turn), plus the assistant
   * header when `addGenerationPrompt`. Appending these to the exact tokens so far (which end with a stop token) gives
   * the next prompt without re-tokenizing anything the model sampled.
   */
  renderContinuation(messages: ChatMessage[], options: ContinuationOptions): number[];
  /** Token ids that end an assistant turn (e.g. <|im_end|>). */
  readonly stopTokens: number[];
  /** How the model writes tool calls when the template shows it the tools. */
  readonly toolCallSyntax: ToolCallSyntax;
  /** Why appending continuations would drift from the template (so only contexts that re-render can be used); undefined when they append. */
  appendOnlyProblem?(): string | undefined;
  encode(text: string): number[];
  decode(tokens: number[]): string;
}
