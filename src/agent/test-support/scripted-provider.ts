// A provider whose replies a test writes: a function of the request (so replies can depend on what the agent
// was shown). It keeps every request it received.
import type { ChatCompletion, ChatRequest, LlmProvider } from "../../llm/index.js";

export type ScriptedReply = string | (Partial<ChatCompletion> & { message: ChatCompletion["message"] });

export interface ScriptedProvider extends LlmProvider {
  readonly requests: ChatRequest[];
}

export function scriptedProvider(reply: (request: ChatRequest, call: number) => ScriptedReply | Promise<ScriptedReply>, id = "scripted:test"): ScriptedProvider {
  const requests: ChatRequest[] = [];
  return {
    id,
    requests,
    async chat(request) {
      requests.push(request);
      const answer = await reply(request, requests.length - 1);
      const completion = typeof answer === "string" ? { message: { role: "assistant" as const, content: answer } } : answer;
      return {
        finishReason: completion.message.tool_calls?.length ? "tool_calls" : "stop",
        usage: { promptTokens: JSON.stringify(request.messages).length, completionTokens: completion.message.content.length },
        ...completion,
      };
    },
  };
}
