// The OpenAI chat-completions wire shape that `evolver model serve` accepts and answers. Requests are validated
// strictly where a field matters (types, ranges, fields that need each other) and unknown fields are ignored, as
// OpenAI-compatible servers do. Extensions, in vLLM's shape: every response carries `prompt_token_ids` (top level)
// and `choices[i].token_ids` (the sampled ids, end-of-turn token included; in a stream, each chunk's new ids);
// `return_tokens_as_token_ids: true` spells logprob tokens as "token_id:<id>". Logprob entries carry the token's
// exact bytes (a byte-level token that is half a character has its one byte, not U+FFFD's three).
import { z } from "zod";
import { ToolSchema, type ChatMessage } from "../core/messages.js";
import type { ChatCompletion, ChatRequest, TokenLogprob, ToolChoice } from "./types.js";

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

const NamedToolChoice = z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) });

export const ChatCompletionBody = z
  .looseObject({
    model: z.string().optional(),
    messages: z.array(WireMessage).min(1),
    tools: z.array(ToolSchema).optional(),
    tool_choice: z.union([z.enum(["none", "auto", "required"]), NamedToolChoice]).optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().gt(0).max(1).nullable().optional(),
    max_tokens: z.number().int().positive().nullable().optional(),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
    stop: z.union([z.string(), z.array(z.string()).max(16)]).nullable().optional(),
    seed: z.number().int().nullable().optional(),
    logprobs: z.boolean().nullable().optional(),
    top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
    /** Choices sampled from the one prompt; with a seed, choice i uses seed + i. */
    n: z.number().int().min(1).max(16, "n is at most 16").nullable().optional(),
    stream: z.boolean().nullable().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
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
  })
  .superRefine((body, context) => {
    const problem = (path: string, message: string) => context.addIssue({ code: "custom", path: [path], message });
    if ((body.top_logprobs ?? 0) > 0 && !body.logprobs) problem("top_logprobs", "top_logprobs needs logprobs: true");
    const names = new Set((body.tools ?? []).map((tool) => tool.function.name));
    const choice = body.tool_choice;
    if (choice === "required" && names.size === 0) problem("tool_choice", "tool_choice 'required' needs tools");
    if (typeof choice === "object" && !names.has(choice.function.name)) {
      problem("tool_choice", `tool_choice names '${choice.function.name}', which is not among the tools (${[...names].join(", ") || "none"})`);
    }
    const forced = choice === "required" || typeof choice === "object";
    if (forced && body.response_format?.type === "json_schema") problem("response_format", "a json_schema response cannot be combined with a forced tool_choice");
    if (body.stream_options && !body.stream) problem("stream_options", "stream_options needs stream: true");
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

function toToolChoice(choice: ChatCompletionBody["tool_choice"]): ToolChoice | undefined {
  return typeof choice === "object" ? { name: choice.function.name } : choice;
}

export function toChatRequest(body: ChatCompletionBody, signal: AbortSignal): ChatRequest {
  const format = body.response_format;
  return {
    messages: body.messages.map(toChatMessage),
    tools: body.tool_choice === "none" ? undefined : body.tools,
    toolChoice: toToolChoice(body.tool_choice),
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    stop: typeof body.stop === "string" ? [body.stop] : (body.stop ?? undefined),
    seed: body.seed ?? undefined,
    logprobs: body.logprobs ?? false,
    topLogprobs: body.top_logprobs ?? undefined,
    jsonSchema: format?.type === "json_schema" ? { name: format.json_schema.name, schema: format.json_schema.schema } : undefined,
    signal,
  };
}

/** How logprob entries spell a token: its text and exact bytes. */
export type TokenSpeller = (id: number) => { text: string; bytes: Uint8Array };

/** OpenAI's logprob entries for these tokens (`top_logprobs` empty unless asked for). */
export function logprobEntries(ids: number[], logprobs: number[], top: TokenLogprob[][] | undefined, spell: TokenSpeller): Record<string, unknown>[] {
  const entry = (id: number, logprob: number) => {
    const { text, bytes } = spell(id);
    return { token: text, logprob, bytes: [...bytes] };
  };
  return ids.map((id, i) => ({ ...entry(id, logprobs[i]), top_logprobs: (top?.[i] ?? []).map((t) => entry(t.id, t.logprob)) }));
}

export function wireFinishReason(completion: ChatCompletion): string {
  return completion.finishReason === "error" ? "stop" : completion.finishReason;
}

/** One non-streamed response; `completions` are the n choices in order. */
export function toWireResponse(
  completions: ChatCompletion[],
  body: ChatCompletionBody,
  meta: { id: string; model: string; spell: TokenSpeller },
): Record<string, unknown> {
  const choices = completions.map((completion, index) => {
    const ids = completion.completionTokenIds;
    const logprobs =
      body.logprobs && completion.completionLogprobs && ids
        ? { content: logprobEntries(ids, completion.completionLogprobs, completion.completionTopLogprobs, meta.spell) }
        : null;
    const toolCalls = completion.message.tool_calls;
    return {
      index,
      message: {
        role: "assistant",
        content: toolCalls?.length && !completion.message.content ? null : completion.message.content,
        ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
      },
      logprobs,
      finish_reason: wireFinishReason(completion),
      ...(ids ? { token_ids: ids } : {}),
    };
  });
  const promptTokens = completions[0].usage.promptTokens;
  const completionTokens = completions.reduce((sum, c) => sum + c.usage.completionTokens, 0);
  return {
    id: meta.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: meta.model,
    choices,
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    ...(completions[0].promptTokenIds ? { prompt_token_ids: completions[0].promptTokenIds } : {}),
  };
}
