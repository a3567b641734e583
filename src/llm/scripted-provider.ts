// Replies from a list, for unit tests of logic that needs a model to say specific words. Every request is kept in
// `requests` so a test can check what was asked.
import type { ChatMessage, ToolCall } from "../core/messages.js";
import { llmError } from "./errors.js";
import type { ChatCompletion, ChatRequest, LlmProvider } from "./types.js";

export type ScriptedReply =
  | string
  | { content?: string; toolCalls?: { name: string; arguments: string | Record<string, unknown> }[] }
  | ((request: ChatRequest) => string | ChatMessage | Promise<string | ChatMessage>);

export interface ScriptedProviderOptions {
  id?: string;
  /** Start again from the first reply when the list runs out (default: throw LLM_SCRIPT_EXHAUSTED). */
  loop?: boolean;
}

export class ScriptedProvider implements LlmProvider {
  readonly id: string;
  readonly requests: ChatRequest[] = [];
  private next = 0;

  constructor(
    private readonly replies: ScriptedReply[],
    private readonly options: ScriptedProviderOptions = {},
  ) {
    this.id = options.id ?? "scripted";
  }

  async chat(request: ChatRequest): Promise<ChatCompletion> {
    this.requests.push(request);
    if (this.next >= this.replies.length) {
      if (!this.options.loop || this.replies.length === 0) {
        throw llmError("LLM_SCRIPT_EXHAUSTED", `scripted provider has no reply left (${this.replies.length} scripted)`);
      }
      this.next = 0;
    }
    const index = this.next++;
    const reply = this.replies[index];
    const message = await toMessage(reply, request, index);
    const words = (text: string) => (text.match(/\S+/g) ?? []).length;
    const hasCalls = (message.tool_calls?.length ?? 0) > 0;
    return {
      message,
      finishReason: hasCalls ? "tool_calls" : "stop",
      usage: {
        promptTokens: request.messages.reduce((sum, m) => sum + words(m.content), 0),
        completionTokens: words(message.content),
      },
      rawText: message.content,
    };
  }
}

async function toMessage(reply: ScriptedReply, request: ChatRequest, index: number): Promise<ChatMessage> {
  if (typeof reply === "function") {
    const produced = await reply(request);
    return typeof produced === "string" ? { role: "assistant", content: produced } : produced;
  }
  if (typeof reply === "string") return { role: "assistant", content: reply };
  const toolCalls: ToolCall[] = (reply.toolCalls ?? []).map((call, i) => ({
    id: `call_${index}_${i}`,
    type: "function",
    function: { name: call.name, arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments) },
  }));
  return { role: "assistant", content: reply.content ?? "", ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
}
