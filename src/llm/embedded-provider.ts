// The embedded model as an LlmProvider: messages are rendered by a ChatTemplate (the GGUF's own chat template over
// llama.cpp's tokenizer unless another is given), sampled by EmbeddedModel, and the calls in the output, in the syntax
// the template teaches (Hermes <tool_call>, Llama 3.1 JSON, Mistral [TOOL_CALLS]; tool-calls.ts), become tool calls. Prompt ids, sampled ids and their logprobs come back exactly. A tool choice of "required" or a named
// function is enforced by a grammar in that same syntax (tool-call-grammar.ts); "none" offers no tools.
import { ggufChatTemplate } from "./model-template.js";
import { EmbeddedModel, type EmbeddedModelOptions } from "./embedded-model.js";
import { llmError } from "./errors.js";
import { parseToolCalls } from "./tool-calls.js";
import { toolCallGrammar } from "./tool-call-grammar.js";
import type { ChatCompletion, ChatRequest, ChatTemplate, LlmProvider, ToolCallSyntax } from "./types.js";

export interface EmbeddedProviderOptions extends EmbeddedModelOptions {
  /** How messages become tokens; default the GGUF's own chat template (tokenizer.chat_template). */
  template?: ChatTemplate;
  /** Completion length when a request names none. Default 512. */
  defaultMaxTokens?: number;
}

export class EmbeddedProvider implements LlmProvider {
  readonly id: string;
  readonly toolCallSyntax: ToolCallSyntax;
  private callCounter = 0;

  constructor(
    readonly model: EmbeddedModel,
    readonly template: ChatTemplate,
    private readonly defaultMaxTokens = 512,
    private readonly ownsModel = false,
  ) {
    this.id = model.id;
    this.toolCallSyntax = template.toolCallSyntax;
  }

  async chat(request: ChatRequest): Promise<ChatCompletion> {
    const choice = request.toolChoice ?? "auto";
    const tools = choice === "none" ? undefined : request.tools;
    const promptTokenIds = this.template.render(request.messages, { tools, addGenerationPrompt: true });
    const forced = choice === "required" || typeof choice === "object";
    if (forced && request.jsonSchema) throw llmError("LLM_BAD_REQUEST", "a JSON-schema response cannot be combined with a forced tool choice");
    const grammar = forced ? await toolCallGrammar(tools ?? [], choice, this.toolCallSyntax, (schema, name) => this.model.jsonSchemaRules(schema, name)) : undefined;
    const result = await this.model.generate({
      promptTokens: promptTokenIds,
      maxTokens: request.maxTokens ?? this.defaultMaxTokens,
      temperature: request.temperature,
      topP: request.topP,
      seed: request.seed,
      stopTokens: this.template.stopTokens,
      stopStrings: request.stop,
      jsonSchema: request.jsonSchema?.schema,
      grammar,
      logprobs: request.logprobs ?? false,
      topLogprobs: request.logprobs ? request.topLogprobs : undefined,
      onDelta: request.onDelta,
      signal: request.signal,
    });
    if (request.jsonSchema) {
      try {
        JSON.parse(result.text);
      } catch (error) {
        throw llmError("LLM_BAD_JSON", `the model's structured output is not valid JSON (stopped by ${result.stopReason})`, {
          details: { text: result.text.slice(0, 500) },
          cause: error,
        });
      }
    }
    const callNumber = ++this.callCounter;
    const parsed = tools?.length
      ? parseToolCalls(this.toolCallSyntax, result.text, { makeId: (i) => `call_${callNumber}_${i}` })
      : { content: result.text, toolCalls: [] };
    return {
      message: { role: "assistant", content: parsed.content, ...(parsed.toolCalls.length ? { tool_calls: parsed.toolCalls } : {}) },
      finishReason: parsed.toolCalls.length ? "tool_calls" : result.stopReason,
      usage: { promptTokens: promptTokenIds.length, completionTokens: result.tokens.length },
      promptTokenIds,
      completionTokenIds: result.tokens,
      ...(request.logprobs ? { completionLogprobs: result.logprobs } : {}),
      ...(result.topLogprobs ? { completionTopLogprobs: result.topLogprobs } : {}),
      rawText: result.text,
    };
  }

  tokenInfo(id: number): { text: string; bytes: Uint8Array } {
    return this.model.tokenInfo(id);
  }

  async close(): Promise<void> {
    if (this.ownsModel) await this.model.close();
  }
}

/** Loads (or shares) the model and wraps it as a provider; `close()` releases the model. */
export async function createEmbeddedProvider(options: EmbeddedProviderOptions): Promise<EmbeddedProvider> {
  const model = await EmbeddedModel.load(options);
  try {
    const template = options.template ?? ggufChatTemplate(model);
    return new EmbeddedProvider(model, template, options.defaultMaxTokens, true);
  } catch (error) {
    await model.close();
    throw error;
  }
}
