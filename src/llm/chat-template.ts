// Qwen2 / Qwen2.5 ChatML, rendered in TypeScript exactly as the Jinja template in `qwen2-jinja.ts` renders it (a fast
// path: `createChatTemplate` picks it only for that exact template text; byte-identity is tested in chat-template.test.ts):
// tools listed in the system turn, assistant calls as <tool_call>{"name": ..., "arguments": ...}</tool_call>,
// consecutive tool results gathered into one user turn of <tool_response> blocks. The text is tokenized whole, so the
// ids are what HF's apply_chat_template(tokenize=True) or llama.cpp would give.
// Turn boundary convention (see `ChatTemplate` in types.ts): a turn ends at <|im_end|>; the "\n" after it belongs
// to the next turn, because a sampled assistant turn stops at <|im_end|>.
import { llmError } from "./errors.js";
import type { ChatMessage, ToolSchema } from "../core/messages.js";
import { pythonJsonDumps, pythonJsonText } from "./python-json.js";
import type { ChatTemplate, ContinuationOptions, TextTokenizer } from "./types.js";

export const qwenDefaultSystemPrompt = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

export interface Qwen2ChatTemplateOptions {
  tokenizer: TextTokenizer;
  /** The system turn used when the conversation has none; Qwen2.5's own by default. */
  defaultSystemPrompt?: string;
}

const toolsPreamble =
  "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
  "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
const toolsPostamble =
  "\n</tools>\n\nFor each function call, return a json object with function name and arguments within " +
  '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>';

export class Qwen2ChatTemplate implements ChatTemplate {
  readonly stopTokens: number[];
  readonly toolCallSyntax = "hermes" as const;
  private readonly tokenizer: TextTokenizer;
  private readonly defaultSystemPrompt: string;

  constructor(options: Qwen2ChatTemplateOptions) {
    this.tokenizer = options.tokenizer;
    this.defaultSystemPrompt = options.defaultSystemPrompt ?? qwenDefaultSystemPrompt;
    const imEnd = this.tokenizer.encode("<|im_end|>");
    const imStart = this.tokenizer.encode("<|im_start|>");
    if (imEnd.length !== 1 || imStart.length !== 1) {
      throw llmError("LLM_TEMPLATE_MISMATCH", "the tokenizer has no single <|im_start|>/<|im_end|> tokens, so it is not ChatML");
    }
    this.stopTokens = imEnd;
  }

  /** The prompt text: the HF template's output, minus the "\n" after the last turn when no generation prompt follows. */
  renderText(messages: ChatMessage[], options: { tools?: ToolSchema[]; addGenerationPrompt: boolean }): string {
    const first = messages[0];
    const systemText = first?.role === "system" ? first.content : this.defaultSystemPrompt;
    const tools = options.tools ?? [];
    const system =
      tools.length > 0
        ? `<|im_start|>system\n${systemText}${toolsPreamble}${tools.map((t) => `\n${pythonJsonDumps(t)}`).join("")}${toolsPostamble}<|im_end|>`
        : `<|im_start|>system\n${systemText}<|im_end|>`;
    const turns = [system, ...this.turns(first?.role === "system" ? messages.slice(1) : messages)];
    return turns.join("\n") + (options.addGenerationPrompt ? "\n<|im_start|>assistant\n" : "");
  }

  /** ChatML renders a turn the same whatever came before it, so `previous` is not needed. */
  renderContinuationText(messages: ChatMessage[], options: Pick<ContinuationOptions, "addGenerationPrompt">): string {
    return this.turns(messages).map((turn) => `\n${turn}`).join("") + (options.addGenerationPrompt ? "\n<|im_start|>assistant\n" : "");
  }

  /** The text an assistant writes for this message after the generation prompt, ending with <|im_end|>. */
  assistantText(message: ChatMessage): string {
    return this.turns([{ ...message, role: "assistant" }])[0].slice("<|im_start|>assistant\n".length);
  }

  render(messages: ChatMessage[], options: { tools?: ToolSchema[]; addGenerationPrompt: boolean }): number[] {
    return this.tokenizer.encode(this.renderText(messages, options));
  }

  renderContinuation(messages: ChatMessage[], options: Pick<ContinuationOptions, "addGenerationPrompt">): number[] {
    return this.tokenizer.encode(this.renderContinuationText(messages, options));
  }

  /** The tokens a model samples for this assistant message (stop token included). */
  renderAssistantCompletion(message: ChatMessage): number[] {
    return this.tokenizer.encode(this.assistantText(message));
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  decode(tokens: number[]): string {
    return this.tokenizer.decode(tokens);
  }

  /** Each turn's text from <|im_start|> through <|im_end|>; a run of tool results is one user turn. */
  private turns(messages: ChatMessage[]): string[] {
    const turns: string[] = [];
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      if (message.role === "tool") {
        let turn = "<|im_start|>user";
        for (; i < messages.length && messages[i].role === "tool"; i++) turn += `\n<tool_response>\n${messages[i].content}\n</tool_response>`;
        i--;
        turns.push(`${turn}<|im_end|>`);
      } else if (message.role === "assistant" && message.tool_calls?.length) {
        let turn = "<|im_start|>assistant";
        if (message.content) turn += `\n${message.content}`;
        for (const call of message.tool_calls) {
          const args = pythonJsonText(call.function.arguments) ?? call.function.arguments;
          turn += `\n<tool_call>\n{"name": "${call.function.name}", "arguments": ${args}}\n</tool_call>`;
        }
        turns.push(`${turn}<|im_end|>`);
      } else {
        turns.push(`<|im_start|>${message.role}\n${message.content}<|im_end|>`);
      }
    }
    return turns;
  }
}
