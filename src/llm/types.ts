// What the agent needs from a model. Two faces:
// - `LlmProvider.chat`: messages in, an assistant message out (any OpenAI-compatible server, the embedded model,
//   a scripted provider in unit tests). Where the backend knows them, the exact prompt and completion token ids
//   and the completion logprobs come back too, so a trajectory never has to re-tokenize text.
// - `TokenSampler`: token ids in, token ids and logprobs out (the embedded model, the trainer's sampler).
//   Training rollouts use it together with a `ChatTemplate`, so that every trained token is the one sampled.
import { z } from "zod";
import type { ChatMessage, ToolSchema } from "../core/messages.js";

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSchema[];
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  /** Ask for per-token logprobs of the completion. */
  logprobs?: boolean;
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
  /** The completion text before tool-call parsing. */
  rawText?: string;
}

export interface LlmProvider {
  /** For logs and the run store, e.g. "openai:gpt-4o-mini" or "embedded:tiny.gguf". */
  readonly id: string;
  chat(request: ChatRequest): Promise<ChatCompletion>;
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

/**
 * Turns messages into token ids the way the model was trained to read them.
 * Turn boundaries: a rendering without the generation prompt ends with the last turn's stop token (<|im_end|>), and
 * whatever the template puts between turns (ChatML's "\n") starts the continuation. So for any split of a
 * conversation at a turn boundary, render(all) equals render(prefix) followed by renderContinuation(rest), and a
 * sampled assistant turn (which ends with its stop token) is followed directly by renderContinuation.
 */
export interface ChatTemplate {
  /** Token ids of the whole conversation, ending with the header that asks the assistant to speak when `addGenerationPrompt`. */
  render(messages: ChatMessage[], options: { tools?: ToolSchema[]; addGenerationPrompt: boolean }): number[];
  /**
   * Token ids of messages that follow a finished turn (tool results, a user turn), plus the assistant
   * header when `addGenerationPrompt`. Appending these to the exact tokens so far (which end with a stop token) gives
   * the next prompt without re-tokenizing anything the model sampled.
   */
  renderContinuation(messages: ChatMessage[], options: { addGenerationPrompt: boolean }): number[];
  /** Token ids that end an assistant turn (e.g. <|im_end|>). */
  readonly stopTokens: number[];
  encode(text: string): number[];
  decode(tokens: number[]): string;
}
