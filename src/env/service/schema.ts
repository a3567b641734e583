// Request and response bodies of the environment service, in AgentEvolver's env-service protocol (see
// docs/env-service.md). Every request body is `{env_type, task_id, instance_id, messages, params}`; AgentEvolver's
// client sends all five on every call, with null for the ones an endpoint does not use, and pydantic ignores keys it
// does not know, so the request schemas accept null for unused fields and drop unknown keys. Response schemas are
// lenient: the client also reads AgentEvolver's own servers (AppWorld, BFCL), whose messages carry extra fields.
import { z } from "zod";
import { EvolverError } from "../../core/errors.js";
import { ChatMessage, ChatRole, ToolSchema } from "../../core/messages.js";
import { EnvProfile, Evaluation, Split } from "../types.js";

function requiredText(field: string) {
  return z
    .string({ error: (issue) => (issue.input == null ? `${field} is required` : `${field} must be a string`) })
    .min(1, `${field} must not be empty`);
}

const Params = z
  .record(z.string(), z.unknown(), { error: "params must be an object" })
  .nullish()
  .transform((value) => value ?? {});

/** The agent's action: one assistant message, usually with tool calls. */
const AssistantAction = z.object(
  {
    ...ChatMessage.shape,
    role: z.literal("assistant", { error: 'messages.role must be "assistant": an action is the agent\'s message' }),
  },
  { error: (issue) => (issue.input == null ? "messages is required: the agent's assistant message" : "messages must be an object") },
);

export const CreateRequest = z.object({
  env_type: requiredText("env_type"),
  task_id: requiredText("task_id"),
  /** Chosen by the caller so that a lost answer can be told apart from a lost request; generated when absent. */
  instance_id: z.string({ error: "instance_id must be a string" }).min(1).max(256, "instance_id is longer than 256 characters").nullish(),
  params: Params,
});
export type CreateRequest = z.infer<typeof CreateRequest>;

export const StepRequest = z.object({
  instance_id: requiredText("instance_id"),
  messages: AssistantAction,
  params: Params,
});
export type StepRequest = z.infer<typeof StepRequest>;

/** evaluate, get_info and release name an instance; `messages` is accepted and ignored. */
export const InstanceRequest = z.object({
  instance_id: requiredText("instance_id"),
  params: Params,
});
export type InstanceRequest = z.infer<typeof InstanceRequest>;

/** get_env_profile (the task ids of a split, as AgentEvolver names it) and describe (our extension). */
export const EnvTypeRequest = z.object({
  env_type: requiredText("env_type"),
  params: Params,
});
export type EnvTypeRequest = z.infer<typeof EnvTypeRequest>;

export const SplitParam = Split.default("train");

/** Parses a request body, turning zod's issues into one ENV_SERVICE_BAD_REQUEST that lists them all. */
export function parseRequest<T extends z.ZodType>(schema: T, body: unknown, endpoint: string): z.infer<T> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new EvolverError("ENV_SERVICE_BAD_REQUEST", `${endpoint}: the body must be a JSON object`);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.join(".");
    return path === "" || issue.message.startsWith(path) ? issue.message : `${path}: ${issue.message}`;
  });
  throw new EvolverError("ENV_SERVICE_BAD_REQUEST", `${endpoint}: ${problems.join("; ")}`, { details: { problems } });
}

// ---- Responses. The server writes `z.input` of these; the client parses them, also from AgentEvolver's servers.

const RemoteToolCall = z.object({
  id: z.string().nullish().transform((value) => value ?? ""),
  type: z.literal("function").default("function").catch("function"),
  function: z.object({
    name: z.string(),
    // AgentEvolver's BFCL env parses Qwen text into calls whose arguments are an object, not JSON text.
    arguments: z.unknown().transform((value) => (typeof value === "string" ? value : JSON.stringify(value ?? {}))),
  }),
});

/** A chat message as environments answer it; null content and empty call lists are normalized away. */
export const RemoteMessage = z
  .object({
    role: ChatRole,
    content: z.string().nullish(),
    tool_calls: z.array(RemoteToolCall).nullish(),
    tool_call_id: z.string().nullish(),
    name: z.string().nullish(),
    reasoning_content: z.string().nullish(),
  })
  .transform((m): ChatMessage => {
    const message: ChatMessage = { role: m.role, content: m.content ?? "" };
    if (m.tool_calls && m.tool_calls.length > 0) message.tool_calls = m.tool_calls;
    if (m.tool_call_id) message.tool_call_id = m.tool_call_id;
    if (m.name) message.name = m.name;
    if (m.reasoning_content) message.reasoning_content = m.reasoning_content;
    return message;
  });

const Info = z
  .record(z.string(), z.unknown())
  .nullish()
  .transform((value) => value ?? {});

/** `data` of /create: AgentEvolver's `{state, info: {instance_id, task_id}}`, plus `tools` (our extension). */
export const CreateData = z.object({
  state: z.array(RemoteMessage),
  info: Info,
  tools: z.array(ToolSchema).optional(),
});

/** `data` of /step. `reward` is null when the environment scores only in /evaluate. */
export const StepData = z.object({
  state: z.array(RemoteMessage),
  reward: z.number().nullish(),
  is_terminated: z.boolean(),
  info: Info,
  tools: z.array(ToolSchema).optional(),
});

/** `data` of /evaluate: a number; AgentEvolver's BFCL env answers a dict with `accuracy` when not sparse. */
export const EvaluateData = z.union([
  z.number(),
  z.looseObject({ accuracy: z.number() }).transform((value) => value.accuracy),
  z.looseObject({ score: z.number() }).transform((value) => value.score),
]);

export const TaskIdsData = z.array(z.union([z.string(), z.number().transform(String)]));

export const DescribeData = EnvProfile;

/** Every response: `{success, data}`; errors carry `detail` (FastAPI) and, from our server, `error`. */
export const ResponseEnvelope = z.object({
  success: z.boolean().optional(),
  data: z.unknown().optional(),
  /** Our extension on /evaluate: the whole evaluation, beside the plain score in `data`. */
  evaluation: Evaluation.optional(),
  /** Our extension on /describe: what the environment can do. */
  capabilities: z.looseObject({ step_rewards: z.boolean().optional(), decodes_calls: z.boolean().optional() }).optional(),
  detail: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type ResponseEnvelope = z.infer<typeof ResponseEnvelope>;
