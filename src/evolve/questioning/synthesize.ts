// Synthesis, two kinds behind one interface. `hindsight` needs no LLM: an explored episode's reached state becomes
// the goal (Environment.hindsightTask), its calls the reference solution, and the request is written from the
// profile's templates. `llm` asks any provider (often a stronger one than the policy) to read the exploration and
// propose tasks as structured output; what it gets wrong is dropped and counted, never thrown.
import type { ChatMessage, ToolSchema } from "../../core/messages.js";
import type { EnvProfile, Environment, TaskSpec } from "../../env/index.js";
import type { LlmProvider } from "../../llm/index.js";
import { chatStructured } from "../../llm/structured.js";
import { exploredSteps } from "./explore.js";
import { writeQuery } from "./query.js";
import { ProposedTasks, PROPOSED_TASKS_JSON_SCHEMA, type Exploration, type RejectReason } from "./schema.js";

/** A proposal before verification. */
export interface Proposal {
  spec: TaskSpec;
  check: string;
}

export interface SynthesisInput {
  env: Environment;
  profile: EnvProfile;
  exploration: Exploration;
  /** The tools the explored instance offered: an LLM's call to anything else is dropped. */
  tools: ToolSchema[];
  signal?: AbortSignal;
}

export interface Synthesizer {
  readonly name: string;
  propose(input: SynthesisInput): Promise<{ proposals: Proposal[]; dropped: Partial<Record<RejectReason, number>> }>;
}

/** Hindsight: at most `maxTurns` turns of what the episode achieved, one request per turn from the templates. */
export function hindsightSynthesizer(options: { maxTurns?: number } = {}): Synthesizer {
  const maxTurns = options.maxTurns ?? 3;
  return {
    name: "hindsight",
    async propose({ env, profile, exploration }) {
      if (!env.hindsightTask || exploration.error !== undefined) return { proposals: [], dropped: {} };
      const achieved = await env.hindsightTask(exploration.setup, exploredSteps(exploration));
      if (!achieved) return { proposals: [], dropped: {} };
      const solution = achieved.solution.slice(0, maxTurns);
      const turns = achieved.turns?.length === achieved.solution.length ? achieved.turns.slice(0, maxTurns) : solution.map((turn) => writeQuery(turn, profile));
      const spec: TaskSpec = { turns, setup: achieved.setup, solution };
      return { proposals: [{ spec, check: "the environment's own checks on the state the explored calls reached" }], dropped: {} };
    },
  };
}

const SYSTEM = [
  "You write training tasks for an AI agent that uses tools. You are shown an exploration of an environment: the",
  "calls an agent made and what came back. Propose tasks a user could ask for in this same environment state, each",
  "solvable with the listed functions: a natural request that states every value the calls need, the exact calls",
  "that fulfil it in order (the reference solution), and how success is checked. Answer with JSON only.",
].join(" ");

function renderExploration(exploration: Exploration, tools: ToolSchema[], profile: EnvProfile, maxChars: number): string {
  const functions = tools.map((t) => `- ${t.function.name}(${Object.keys((t.function.parameters as { properties?: object }).properties ?? {}).join(", ")}): ${(t.function.description ?? "").slice(0, 120)}`);
  const steps = exploredSteps(exploration).flatMap((step, i) => {
    const calls = (step.action.tool_calls ?? []).map((c) => `${c.function.name}(${c.function.arguments})`);
    const did = calls.length > 0 ? calls.join("; ") : `said: ${step.action.content.slice(0, 200)}`;
    return [`step ${i + 1}: ${did}`, ...step.observations.map((o) => `  → ${o.content.slice(0, 300)}`)];
  });
  let trace = steps.join("\n");
  if (trace.length > maxChars) trace = `${trace.slice(0, maxChars)}\n…`;
  return [`Environment: ${profile.description}`, `Functions:\n${functions.join("\n")}`, `Exploration of ${exploration.entity}:\n${trace || "(no steps)"}`].join("\n\n");
}

/** Whether a value fits a JSON Schema's type (the checks an LLM's arguments most often fail). */
function fitsType(value: unknown, schema: Record<string, unknown>): boolean {
  switch (schema.type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value) && (!schema.items || value.every((item) => fitsType(item, schema.items as Record<string, unknown>)));
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      return true;
  }
}

/** Why a call does not fit the tools, or undefined when it does. */
export function checkCall(call: { name: string; arguments: Record<string, unknown> }, tools: ToolSchema[]): Extract<RejectReason, "unknown_function" | "bad_arguments"> | undefined {
  const tool = tools.find((t) => t.function.name === call.name);
  if (!tool) return "unknown_function";
  const parameters = tool.function.parameters as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  const properties = parameters.properties ?? {};
  for (const [name, value] of Object.entries(call.arguments)) {
    if (!Object.hasOwn(properties, name) || !fitsType(value, properties[name])) return "bad_arguments";
  }
  if ((parameters.required ?? []).some((name) => !Object.hasOwn(call.arguments, name))) return "bad_arguments";
  return undefined;
}

export interface LlmSynthesizerOptions {
  provider: LlmProvider;
  /** Tasks asked for per exploration. */
  tasksPerExploration?: number;
  temperature?: number;
  maxTokens?: number;
  /** The exploration trace is cut to this many characters. */
  maxTraceChars?: number;
}

export function llmSynthesizer(options: LlmSynthesizerOptions): Synthesizer {
  const count = options.tasksPerExploration ?? 3;
  return {
    name: `llm:${options.provider.id}`,
    async propose({ profile, exploration, tools, signal }) {
      const dropped: Partial<Record<RejectReason, number>> = {};
      const drop = (reason: RejectReason) => (dropped[reason] = (dropped[reason] ?? 0) + 1);
      const messages: ChatMessage[] = [
        { role: "system", content: SYSTEM },
        { role: "user", content: `${renderExploration(exploration, tools, profile, options.maxTraceChars ?? 6000)}\n\nPropose ${count} tasks as {"tasks": [{"query": ..., "solution": [{"name": ..., "arguments": {...}}], "check": ...}]}.` },
      ];
      const answer = await chatStructured({
        provider: options.provider,
        messages,
        schema: ProposedTasks,
        jsonSchema: { name: "proposed_tasks", schema: PROPOSED_TASKS_JSON_SCHEMA },
        temperature: options.temperature ?? 0.7,
        maxTokens: options.maxTokens ?? 1024,
        signal,
      });
      signal?.throwIfAborted();
      // Not JSON of the schema, or the provider failed on this one: counted, and the round goes on.
      if (!answer.ok) return { proposals: [], dropped: { invalid_json: 1 } };
      const parsed = answer.value;
      if (parsed.tasks.length === 0) return { proposals: [], dropped: { no_tasks: 1 } };
      const proposals: Proposal[] = [];
      for (const task of parsed.tasks.slice(0, count)) {
        if (task.query.trim() === "") {
          drop("empty_query");
          continue;
        }
        const problem = task.solution.length === 0 ? "bad_arguments" : task.solution.map((call) => checkCall(call, tools)).find((p) => p !== undefined);
        if (problem) {
          drop(problem);
          continue;
        }
        proposals.push({ spec: { turns: [task.query.trim()], setup: exploration.setup, solution: [task.solution] }, check: task.check });
      }
      return { proposals, dropped };
    },
  };
}
