// The embedded model as an LlmProvider: messages are rendered by a ChatTemplate (the GGUF's own chat template over
// llama.cpp's tokenizer unless another is given), sampled by EmbeddedModel, and Hermes <tool_call> blocks in the output become
// tool calls. Prompt ids, sampled ids and their logprobs come back exactly. A tool choice of "required" or a named
// function is enforced by a grammar (tool-call-grammar.ts); "none" offers no tools.
import { ggufChatTemplate } from "./model-template.js";
import { EmbeddedModel, type EmbeddedModelOptions } from "./embedded-model.js";
import { llmError } from "./errors.js";
import { parseHermesToolCalls } from "./hermes-tool-calls.js";
import { toolCallGrammar } from "./tool-call-grammar.js";
import type { ChatCompletion, ChatRequest, ChatTemplate, LlmProvider } from "./types.js";

export interface EmbeddedProviderOptions extends EmbeddedModelOptions {
  /** How messages become tokens; default the GGUF's own chat template (tokenizer.chat_template). */
  template?: ChatTemplate;
  /** Completion length when a request names none. Default 512. */
  defaultMaxTokens?: number;
}

export class EmbeddedProvider implements LlmProvider {
  readonly id: string;
  private callCounter = 0;

  constructor(
    readonly model: EmbeddedModel,
    readonly template: ChatTemplate,
    private readonly defaultMaxTokens = 512,
    private readonly ownsModel = false,
  ) {
    this.id = model.id;
  }

  async chat(request: ChatRequest): Promise<ChatCompletion> {
    const choice = request.toolChoice ?? "auto";
    const tools = choice === "none" ? undefined : request.tools;
    if (tools?.length && this.template.toolCallSyntax !== "hermes") {
      // Calls are read (and forced by grammar) as Hermes <tool_call> JSON; a template that teaches another syntax would
      // have its calls silently missed. Token rollouts read every family's syntax (agent/tool-formats.ts).
      throw llmError("LLM_BAD_REQUEST", `${this.id}: its chat template has the model write ${this.template.toolCallSyntax} tool calls, which the embedded chat provider does not parse; use token mode (rollouts) or a Hermes-style model`);
    }
    const promptTokenIds = this.template.render(request.messages, { tools, addGenerationPrompt: true });
    const forced = choice === "required" || typeof choice === "object";
    if (forced && request.jsonSchema) throw llmError("LLM_BAD_REQUEST", "a JSON-schema response cannot be combined with a forced tool choice");
    const grammar = forced ? await toolCallGrammar(tools ?? [], choice, (schema, name) => this.model.jsonSchemaRules(schema, name)) : undefined;
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
    const parsed = tools?.length
      ? parseHermesToolCalls(result.text, (i) => `call_${++this.callCounter}_${i}`)
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
