// The OpenAI chat-completions wire shape that `evolver model serve` accepts and answers. Requests are validated
// strictly where a field matters (types, ranges) and unknown fields are ignored, as OpenAI-compatible servers do.
// Extensions, in vLLM's shape: every response carries `prompt_token_ids` (top level) and `choices[0].token_ids`
// (the sampled ids, end-of-turn token included); `return_tokens_as_token_ids: true` spells logprob tokens as
// "token_id:<id>".
import { z } from "zod";
import { ToolSchema, type ChatMessage } from "../core/messages.js";
import type { ChatCompletion, ChatRequest } from "./types.js";

const TextPart = z.object({ type: z.literal("text"), text: z.string() });

const WireMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(TextPart), z.null()]).optional(),
  tool_calls: z
    .array(
      z.object({
        id: z.string(),
        type: z.literal("function").default("function"),
        function: z.object({ name: z.string(), arguments: z.string() }),
      }),
    )
    .optional(),
  tool_call_id: z.string().optional(),
  name: z.string().optional(),
  reasoning_content: z.string().nullable().optional(),
});

export const ChatCompletionBody = z.looseObject({
  model: z.string().optional(),
  messages: z.array(WireMessage).min(1),
  tools: z.array(ToolSchema).optional(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function") }).loose()]).optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.literal(0, { message: "top_logprobs is not supported (only 0)" }).nullable().optional(),
  n: z.literal(1, { message: "only n = 1 is supported" }).nullable().optional(),
  stream: z.literal(false, { message: "streaming is not supported" }).nullable().optional(),
  response_format: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("text") }),
      z.object({
        type: z.literal("json_schema"),
        json_schema: z.object({ name: z.string(), schema: z.record(z.string(), z.unknown()), strict: z.boolean().nullable().optional() }),
      }),
    ])
    .optional(),
  return_token_ids: z.boolean().optional(),
  return_tokens_as_token_ids: z.boolean().optional(),
});
export type ChatCompletionBody = z.infer<typeof ChatCompletionBody>;

function toChatMessage(message: z.infer<typeof WireMessage>): ChatMessage {
  const content = typeof message.content === "string" ? message.content : (message.content ?? []).map((p) => p.text).join("");
  return {
    role: message.role === "developer" ? "system" : message.role,
    content,
    ...(message.tool_calls ? { tool_calls: message.tool_calls } : {}),
    ...(message.tool_call_id !== undefined ? { tool_call_id: message.tool_call_id } : {}),
    ...(message.name !== undefined ? { name: message.name } : {}),
    ...(message.reasoning_content ? { reasoning_content: message.reasoning_content } : {}),
  };
}

export function toChatRequest(body: ChatCompletionBody, signal: AbortSignal): ChatRequest {
  const format = body.response_format;
  return {
    messages: body.messages.map(toChatMessage),
    tools: body.tool_choice === "none" ? undefined : body.tools,
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    stop: typeof body.stop === "string" ? [body.stop] : (body.stop ?? undefined),
    seed: body.seed ?? undefined,
    logprobs: body.logprobs ?? false,
    jsonSchema: format?.type === "json_schema" ? { name: format.json_schema.name, schema: format.json_schema.schema } : undefined,
    signal,
  };
}

export function toWireResponse(
  completion: ChatCompletion,
  body: ChatCompletionBody,
  meta: { id: string; model: string; tokenText?: (id: number) => string },
): Record<string, unknown> {
  const ids = completion.completionTokenIds;
  const logprobs =
    body.logprobs && completion.completionLogprobs && ids
      ? {
          content: ids.map((id, i) => {
            const token = body.return_tokens_as_token_ids || !meta.tokenText ? `token_id:${id}` : meta.tokenText(id);
            return { token, logprob: completion.completionLogprobs![i], bytes: [...Buffer.from(token, "utf8")], top_logprobs: [] };
          }),
        }
      : null;
  const toolCalls = completion.message.tool_calls;
  return {
    id: meta.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: meta.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: toolCalls?.length && !completion.message.content ? null : completion.message.content,
          ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs,
        finish_reason: completion.finishReason === "error" ? "stop" : completion.finishReason,
        ...(ids ? { token_ids: ids } : {}),
      },
    ],
    usage: {
      prompt_tokens: completion.usage.promptTokens,
      completion_tokens: completion.usage.completionTokens,
      total_tokens: completion.usage.promptTokens + completion.usage.completionTokens,
    },
    ...(completion.promptTokenIds ? { prompt_token_ids: completion.promptTokenIds } : {}),
  };
}
