// Any OpenAI-compatible chat API (OpenAI, vLLM, SGLang, llama.cpp's server, `evolver model serve`) as an
// LlmProvider, through the official SDK (over node:http, see http-fetch.ts). The SDK's own retries are off: this file retries 429/5xx/connection errors
// with exponential backoff and jitter, bounds each call by a timeout, limits calls in flight with a semaphore, and
// maps failures to stable codes (LLM_AUTH, LLM_MODEL_NOT_FOUND, LLM_BAD_JSON, ...).
// Token ids: `prompt_token_ids` and `choices[0].token_ids` are read when the server sends them (vLLM with
// `return_token_ids`, and `evolver model serve` always); logprob tokens spelled "token_id:<id>" (vLLM's
// `return_tokens_as_token_ids`) also give ids. The API key is never logged or put in an error message.
import OpenAI from "openai";
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { ChatMessage } from "../core/messages.js";
import { llmError } from "./errors.js";
import { createHttpFetch, type HttpFetch } from "../core/http-fetch.js";
import { Semaphore } from "./semaphore.js";
import { FinishReason, type ChatCompletion, type ChatRequest, type LlmProvider } from "./types.js";

export interface OpenAIProviderOptions {
  model: string;
  /** Default: OPENAI_BASE_URL, else the SDK's default (api.openai.com). */
  baseURL?: string;
  /** Default: OPENAI_API_KEY; servers without auth accept any value ("none" is sent when neither is set). */
  apiKey?: string;
  /** Calls in flight at once; more wait. Default 8. */
  maxConcurrency?: number;
  /** Retries after the first try on 429, 5xx and connection errors. Default 4. */
  maxRetries?: number;
  /** First backoff delay; each retry doubles it (with jitter), honouring Retry-After when the server sends one. */
  retryBaseDelayMs?: number;
  /** Per try. Default 120 s. */
  timeoutMs?: number;
  /** Ask vLLM-style servers for token ids (`return_token_ids`, `return_tokens_as_token_ids`). OpenAI's API rejects these. */
  requestTokenIds?: boolean;
  /** Extra body fields sent as they are (server-specific sampling options). */
  extraBody?: Record<string, unknown>;
}

const retryableStatus = (status: number | undefined) => status === 408 || status === 409 || status === 429 || (status !== undefined && status >= 500);

function toWireMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: message.content };
    case "tool":
      return { role: "tool", content: message.content, tool_call_id: message.tool_call_id ?? "" };
    case "assistant":
      return message.tool_calls?.length
        ? { role: "assistant", content: message.content || null, tool_calls: message.tool_calls.map((c) => ({ ...c, type: "function" as const })) }
        : { role: "assistant", content: message.content };
  }
}

export class OpenAIProvider implements LlmProvider {
  readonly id: string;
  private readonly client: OpenAI;
  private readonly semaphore: Semaphore;
  private readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly http: HttpFetch;

  constructor(private readonly options: OpenAIProviderOptions) {
    this.id = `openai:${options.model}`;
    this.maxRetries = options.maxRetries ?? 4;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 500;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.semaphore = new Semaphore(options.maxConcurrency ?? 8);
    this.http = createHttpFetch();
    this.client = new OpenAI({
      baseURL: options.baseURL ?? process.env.OPENAI_BASE_URL ?? undefined,
      apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? "none",
      maxRetries: 0,
      timeout: this.timeoutMs,
      fetch: this.http.fetch,
    });
  }

  async close(): Promise<void> {
    this.http.close();
  }

  chat(request: ChatRequest): Promise<ChatCompletion> {
    return this.semaphore.run(() => this.withRetries(request));
  }

  private async withRetries(request: ChatRequest): Promise<ChatCompletion> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(request);
      } catch (error) {
        const status = error instanceof OpenAI.APIError ? error.status : undefined;
        const retryable = error instanceof OpenAI.APIConnectionError || retryableStatus(status);
        if (!retryable || request.signal?.aborted || attempt >= this.maxRetries) throw this.mapError(error, attempt + 1, request);
        await sleep(this.backoffMs(attempt, error), request.signal);
      }
    }
  }

  private backoffMs(attempt: number, error: unknown): number {
    const retryAfter = error instanceof OpenAI.APIError ? Number(error.headers?.get?.("retry-after")) : NaN;
    if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter * 1000, 60_000);
    const base = this.retryBaseDelayMs * 2 ** attempt;
    return base / 2 + Math.random() * (base / 2);
  }

  private async once(request: ChatRequest): Promise<ChatCompletion> {
    const body: ChatCompletionCreateParamsNonStreaming & Record<string, unknown> = {
      model: this.options.model,
      messages: request.messages.map(toWireMessage),
      ...(request.tools?.length ? { tools: request.tools.map((t) => ({ ...t, type: "function" as const })) } : {}),
      ...(request.toolChoice && request.tools?.length
        ? { tool_choice: typeof request.toolChoice === "string" ? request.toolChoice : { type: "function" as const, function: { name: request.toolChoice.name } } }
        : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
      ...(request.stop?.length ? { stop: request.stop } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.logprobs ? { logprobs: true, ...(request.topLogprobs ? { top_logprobs: request.topLogprobs } : {}) } : {}),
      ...(request.jsonSchema
        ? { response_format: { type: "json_schema", json_schema: { name: request.jsonSchema.name, schema: request.jsonSchema.schema, strict: true } } }
        : {}),
      ...(this.options.requestTokenIds ? { return_token_ids: true, ...(request.logprobs ? { return_tokens_as_token_ids: true } : {}) } : {}),
      ...this.options.extraBody,
    };
    const response = await this.client.chat.completions.create(body, { signal: request.signal, timeout: this.timeoutMs });
    return this.toCompletion(response as unknown as WireResponse, request);
  }

  private toCompletion(response: WireResponse, request: ChatRequest): ChatCompletion {
    const choice = response.choices?.[0];
    if (!choice) throw llmError("LLM_BAD_REQUEST", "the server answered without a choice", { details: { model: this.options.model } });
    const content = choice.message?.content ?? "";
    if (request.jsonSchema) {
      try {
        JSON.parse(content);
      } catch (error) {
        throw llmError("LLM_BAD_JSON", `structured output from ${this.options.model} is not valid JSON`, { details: { text: content.slice(0, 500) }, cause: error });
      }
    }
    const toolCalls = (choice.message?.tool_calls ?? [])
      .filter((c) => c.type === undefined || c.type === "function")
      .map((c) => ({ id: c.id, type: "function" as const, function: { name: c.function.name, arguments: c.function.arguments ?? "" } }));
    const logprobEntries = choice.logprobs?.content ?? undefined;
    const idsFromLogprobs = logprobEntries?.every((e) => /^token_id:\d+$/.test(e.token)) ? logprobEntries.map((e) => Number(e.token.slice(9))) : undefined;
    const finish = FinishReason.safeParse(choice.finish_reason === "function_call" ? "tool_calls" : choice.finish_reason);
    return {
      message: { role: "assistant", content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
      finishReason: finish.success ? finish.data : "stop",
      usage: { promptTokens: response.usage?.prompt_tokens ?? 0, completionTokens: response.usage?.completion_tokens ?? 0 },
      ...(response.prompt_token_ids ? { promptTokenIds: response.prompt_token_ids } : {}),
      ...((choice.token_ids ?? idsFromLogprobs) ? { completionTokenIds: choice.token_ids ?? idsFromLogprobs } : {}),
      ...(request.logprobs && logprobEntries ? { completionLogprobs: logprobEntries.map((e) => e.logprob) } : {}),
      rawText: content,
    };
  }

  private mapError(error: unknown, attempts: number, request: ChatRequest) {
    const details = { model: this.options.model, attempts };
    if (request.signal?.aborted || error instanceof OpenAI.APIUserAbortError) return llmError("LLM_ABORTED", "the call was aborted", { details, cause: error });
    if (error instanceof OpenAI.APIConnectionTimeoutError) {
      return llmError("LLM_TIMEOUT", `no answer from the model server within ${this.timeoutMs} ms (${attempts} tries)`, { details, cause: error });
    }
    if (error instanceof OpenAI.APIConnectionError) {
      return llmError("LLM_UNAVAILABLE", `cannot reach the model server after ${attempts} tries: ${error.message}`, { details, cause: error });
    }
    if (error instanceof OpenAI.APIError) {
      const status = error.status;
      const said = `${status ?? ""} ${error.message}`.trim();
      if (status === 401 || status === 403) return llmError("LLM_AUTH", `the model server refused the credentials (${said})`, { details: { ...details, status }, cause: error });
      if (status === 404) return llmError("LLM_MODEL_NOT_FOUND", `model '${this.options.model}' not found (${said})`, { details: { ...details, status }, cause: error });
      if (status === 400 || status === 422) return llmError("LLM_BAD_REQUEST", `the model server rejected the request (${said})`, { details: { ...details, status }, cause: error });
      return llmError("LLM_UNAVAILABLE", `the model server failed after ${attempts} tries (${said})`, { details: { ...details, status }, cause: error });
    }
    return error;
  }
}

/** Shape of the response fields read here, vLLM extensions included (lenient: servers differ). */
interface WireResponse {
  choices?: {
    message?: { content?: string | null; tool_calls?: { id: string; type?: string; function: { name: string; arguments?: string } }[] };
    finish_reason?: string | null;
    logprobs?: { content?: { token: string; logprob: number }[] | null } | null;
    token_ids?: number[];
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  prompt_token_ids?: number[];
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

export function createOpenAIProvider(options: OpenAIProviderOptions): OpenAIProvider {
  return new OpenAIProvider(options);
}
