// `evolver env profile`: an LLM drafts an EnvProfile from an environment's tool schemas, for the user to review and
// give to a run (`questioning.profile`, `tasks synthesize --profile`). The answer is structured output, checked by
// the EnvProfile schema and against the tools (every operation is a tool, every template placeholder one of its
// parameters); an invalid draft is shown back to the model with what was wrong, a retry or two, then refused by name.
import { z } from "zod";
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage, ToolSchema } from "../../core/messages.js";
import { EnvProfile, type Environment } from "../../env/index.js";
import type { LlmProvider } from "../../llm/index.js";
import { chatStructured } from "../../llm/structured.js";

// What the model is asked for: EnvProfile with attributes as a list, so that every object is closed and every field
// required (OpenAI's strict structured output accepts no free-form record); converted to an EnvProfile after.
const DraftAnswer = z.object({
  name: z.string(),
  description: z.string(),
  entities: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      attributes: z.array(z.object({ name: z.string(), description: z.string() })),
      operations: z.array(z.object({ name: z.string(), description: z.string(), template: z.string() })),
    }),
  ),
  taskPreferences: z.object({ numEntities: z.number(), numOperations: z.number(), relationDifficulty: z.number(), notes: z.string() }),
});
type DraftAnswer = z.infer<typeof DraftAnswer>;

const closed = (properties: Record<string, unknown>) => ({ type: "object", properties, required: Object.keys(properties), additionalProperties: false });
const text = { type: "string" };
export const DRAFT_PROFILE_JSON_SCHEMA: Record<string, unknown> = closed({
  name: text,
  description: text,
  entities: {
    type: "array",
    items: closed({
      name: text,
      description: text,
      attributes: { type: "array", items: closed({ name: text, description: text }) },
      operations: { type: "array", items: closed({ name: text, description: text, template: text }) },
    }),
  },
  taskPreferences: closed({ numEntities: { type: "integer" }, numOperations: { type: "integer" }, relationDifficulty: { type: "integer" }, notes: text }),
});

const SYSTEM = [
  "You write the profile of a tool environment, which an AI agent uses to explore it and to write itself training tasks.",
  "Group the functions into entities (the things the functions act on: a file system, a trading account, a vehicle).",
  "For each entity: a description, its attributes (name and what it holds), and its operations. Every operation's name",
  "must be exactly one of the listed function names, and each function belongs to one entity. An operation's template",
  "is how a user would ask for it, naming its arguments in braces with the function's own parameter names, e.g.",
  '"Create a folder named {dir_name}."; use only parameters the function has. taskPreferences: how many entities and',
  "operations a typical task combines, how hard the relations between them are (1-3), and notes. Answer with JSON only.",
].join(" ");

function describeTool(tool: ToolSchema): string {
  const parameters = tool.function.parameters as { properties?: Record<string, { type?: unknown; description?: string }>; required?: string[] };
  const params = Object.entries(parameters.properties ?? {}).map(([name, p]) => {
    const optional = (parameters.required ?? []).includes(name) ? "" : "?";
    return `${name}${optional}: ${typeof p.type === "string" ? p.type : "any"}`;
  });
  return `- ${tool.function.name}(${params.join(", ")}): ${tool.function.description.split("\n")[0].slice(0, 400)}`;
}

/** `entities`: the names the environment explores by (explorationSetup); the draft must use them, and only them. */
export function draftProfileMessages(envName: string, tools: readonly ToolSchema[], entities: readonly string[] = []): ChatMessage[] {
  const names = entities.length > 0 ? `\nThe environment knows these entities; name yours exactly so, using only these: ${entities.join(", ")}` : "";
  return [
    { role: "system", content: SYSTEM },
    { role: "user", content: `Environment: ${envName}${names}\nFunctions (${tools.length}):\n${tools.map(describeTool).join("\n")}` },
  ];
}

/**
 * The tools an environment offers: the union over instances of up to `sampleTasks` of its training tasks, spread
 * over the list (an environment may offer different tools per task, as BFCL does per API class).
 */
export async function environmentTools(env: Environment, sampleTasks = 24): Promise<ToolSchema[]> {
  const ids = await env.listTasks("train");
  if (ids.length === 0) throw new EvolverError("PROFILE_NO_TOOLS", `${env.name} lists no training task to read its tools from`);
  const step = Math.max(1, ids.length / sampleTasks);
  const picked = [...new Set(Array.from({ length: Math.min(sampleTasks, ids.length) }, (_, i) => ids[Math.floor(i * step)]))];
  const tools = new Map<string, ToolSchema>();
  for (const id of picked) {
    const instance = await env.create(id);
    try {
      for (const tool of instance.initial.tools) if (!tools.has(tool.function.name)) tools.set(tool.function.name, tool);
    } finally {
      await instance.release();
    }
  }
  if (tools.size === 0) throw new EvolverError("PROFILE_NO_TOOLS", `${env.name} offered no tool in ${picked.length} training task(s)`);
  return [...tools.values()].sort((a, b) => a.function.name.localeCompare(b.function.name));
}

/** The answer as an EnvProfile, or PROFILE_DRAFT_INVALID listing every way it does not fit the schema or the tools. */
export function draftToProfile(answer: DraftAnswer, tools: readonly ToolSchema[], entities: readonly string[] = []): EnvProfile {
  const byName = new Map(tools.map((t) => [t.function.name, t]));
  const problems: string[] = [];
  if (answer.entities.length === 0) problems.push("no entity");
  const seenEntities = new Set<string>();
  const owner = new Map<string, string>();
  for (const entity of answer.entities) {
    if (entity.name.trim() === "") problems.push("an entity without a name");
    if (seenEntities.has(entity.name)) problems.push(`entity '${entity.name}' appears twice`);
    if (entities.length > 0 && !entities.includes(entity.name)) problems.push(`entity '${entity.name}' is not one the environment knows (${entities.join(", ")})`);
    seenEntities.add(entity.name);
    if (entity.operations.length === 0) problems.push(`entity '${entity.name}' has no operation`);
    for (const operation of entity.operations) {
      const tool = byName.get(operation.name);
      if (!tool) {
        problems.push(`operation '${operation.name}' of entity '${entity.name}' is not one of the environment's functions`);
        continue;
      }
      if (owner.has(operation.name) && owner.get(operation.name) !== entity.name) {
        problems.push(`operation '${operation.name}' is in both '${owner.get(operation.name)}' and '${entity.name}'`);
      }
      owner.set(operation.name, entity.name);
      const parameters = Object.keys((tool.function.parameters as { properties?: object }).properties ?? {});
      for (const [, placeholder] of operation.template.matchAll(/\{(\w+)\}/g)) {
        if (!parameters.includes(placeholder)) {
          problems.push(`the template of '${operation.name}' names {${placeholder}}, which is not one of its parameters (${parameters.join(", ") || "none"})`);
        }
      }
    }
  }
  const profile = EnvProfile.safeParse({
    name: answer.name,
    description: answer.description,
    entities: answer.entities.map((entity) => ({
      name: entity.name,
      description: entity.description,
      attributes: Object.fromEntries(entity.attributes.map((a) => [a.name, a.description])),
      operations: entity.operations.map((op) => ({ name: op.name, description: op.description, ...(op.template.trim() ? { template: op.template.trim() } : {}) })),
    })),
    taskPreferences: {
      numEntities: Math.max(1, Math.round(answer.taskPreferences.numEntities)),
      numOperations: Math.max(1, Math.round(answer.taskPreferences.numOperations)),
      relationDifficulty: Math.max(1, Math.round(answer.taskPreferences.relationDifficulty)),
      notes: answer.taskPreferences.notes,
    },
  });
  if (!profile.success) problems.push(z.prettifyError(profile.error));
  if (problems.length > 0 || !profile.success) {
    const shown = problems.slice(0, 8).join("; ");
    throw new EvolverError("PROFILE_DRAFT_INVALID", `the drafted profile ${problems.length > 8 ? `has ${problems.length} problems, first: ${shown}` : `is not usable: ${shown}`}`, {
      details: { problems },
    });
  }
  return profile.data;
}

export interface DraftProfileOptions {
  env: Environment;
  provider: LlmProvider;
  /** Default: the tools of up to 24 training tasks (environmentTools). */
  tools?: ToolSchema[];
  /** The entity names the environment explores by; default those of its own profile(). */
  entities?: string[];
  /** Calls at most; an invalid draft is shown back with what was wrong (default 3). */
  maxAttempts?: number;
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  signal?: AbortSignal;
}

export interface DraftedProfile {
  profile: EnvProfile;
  tools: ToolSchema[];
  /** Functions no entity lists as an operation: for the user to add or leave out on review. */
  uncovered: string[];
  attempts: number;
  /** Answers refused (not JSON, not the schema, not the tools) before the one kept. */
  invalid: number;
  failedCalls: number;
}

/** A profile drafted by `provider`; PROFILE_DRAFT_INVALID (with the counts) when no attempt gave a usable one. */
export async function draftProfile(options: DraftProfileOptions): Promise<DraftedProfile> {
  const tools = options.tools ?? (await environmentTools(options.env));
  const entities = options.entities ?? (await options.env.profile()).entities.map((e) => e.name);
  const answer = await chatStructured({
    provider: options.provider,
    messages: draftProfileMessages(options.env.name, tools, entities),
    schema: DraftAnswer,
    jsonSchema: { name: "env_profile", schema: DRAFT_PROFILE_JSON_SCHEMA },
    interpret: (draft) => draftToProfile(draft, tools, entities),
    maxAttempts: options.maxAttempts ?? 3,
    feedback: true,
    what: "the drafted profile",
    temperature: options.temperature ?? 0.2,
    maxTokens: options.maxTokens ?? 4096,
    seed: options.seed,
    signal: options.signal,
  });
  const counts = { attempts: answer.attempts, invalid: answer.invalid, failedCalls: answer.failedCalls };
  if (!answer.ok) {
    throw new EvolverError(
      "PROFILE_DRAFT_INVALID",
      `${options.provider.id} gave no usable profile in ${answer.attempts} attempt(s) (${answer.invalid} invalid, ${answer.failedCalls} failed call(s)); last: ${answer.error.message}`,
      { details: { ...counts, last: answer.error.code } },
    );
  }
  const covered = new Set(answer.value.entities.flatMap((e) => e.operations.map((op) => op.name)));
  return { profile: answer.value, tools, uncovered: tools.map((t) => t.function.name).filter((name) => !covered.has(name)), ...counts };
}
