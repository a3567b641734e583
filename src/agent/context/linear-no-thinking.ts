// Every message, but earlier assistant turns lose their reasoning (reasoning_content and <think> blocks), as
// Qwen3's template does for finished turns. Thinking is the bulk of a reasoning model's output and is rarely
// needed again once acted on.
import type { ChatMessage } from "../../core/messages.js";
import { stripThinking } from "../thinking.js";
import type { ContextStrategy } from "./types.js";

export function linearNoThinkingContext(): ContextStrategy {
  return {
    name: "linear-no-thinking",
    appendOnly: false,
    build: ({ history }) => history.map(withoutThinking),
  };
}

function withoutThinking(message: ChatMessage): ChatMessage {
  if (message.role !== "assistant") return message;
  const { reasoning_content: _dropped, ...rest } = message;
  return { ...rest, content: stripThinking(message.content) };
}
