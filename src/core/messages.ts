// Chat messages and tool schemas in the OpenAI wire shape: the lingua franca between environments,
// model providers and the agent. The environment service, the providers and the trajectories all use these.
import { z } from "zod";

export const ToolCall = z.object({
  id: z.string(),
  type: z.literal("function").default("function"),
  function: z.object({
    name: z.string(),
    /** JSON text of the arguments, exactly as the model produced it (it may be malformed). */
    arguments: z.string(),
  }),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const ChatRole = z.enum(["system", "user", "assistant", "tool"]);
export type ChatRole = z.infer<typeof ChatRole>;

export const ChatMessage = z.object({
  role: ChatRole,
  content: z.string().default(""),
  /** Assistant only: the calls the model made in this message. */
  tool_calls: z.array(ToolCall).optional(),
  /** Tool only: the id of the call this message answers. */
  tool_call_id: z.string().optional(),
  /** Tool only: the name of the function that produced this result. */
  name: z.string().optional(),
  /** Assistant only: thinking text kept apart from the answer (some context strategies drop it). */
  reasoning_content: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** A function tool as OpenAI-compatible chat APIs take it; `parameters` is a JSON Schema object. */
export const ToolSchema = z.object({
  type: z.literal("function").default("function"),
  function: z.object({
    name: z.string(),
    description: z.string().default(""),
    parameters: z.record(z.string(), z.unknown()).default({ type: "object", properties: {} }),
  }),
});
export type ToolSchema = z.infer<typeof ToolSchema>;
