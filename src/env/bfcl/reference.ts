// A correct BFCL episode built from the ground truth (possible_answer), for an SFT warm start. Each turn's calls are
// sent as native tool calls with JSON arguments (floats written as floats, positional arguments named from the
// function docs), answered by the environment itself, and the turn is closed by a short reply without calls.
//
// Grouping: BFCL runs every call of one assistant message in order, so a turn's calls may all go in one message,
// but a call that uses a value the model can only know from an earlier call's result (a price, a generated id) must
// wait for that result: it opens the next message. Dependency is read off the text: an argument value that appears
// in the current message's results but nowhere in the conversation before them.
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage, ToolCall } from "../../core/messages.js";
import type { EnvInstance } from "../types.js";
import { BFCL_CATEGORIES, loadBfclGroundTruth, loadBfclQuestions, type BfclCategoryName } from "./data.js";
import { BfclExecution, bfclCategory } from "./executor.js";
import { parseBfclCall } from "./python/call-parser.js";
import { formatPyFloat } from "./python/repr.js";
import { PyFloat, PyTuple, isPyDict, type PyValue } from "./python/value.js";
import { parseBfclCallsAsJson } from "./tool-calls.js";

/** The reply that ends a turn whose request was carried out. */
export const BFCL_REFERENCE_DONE = "Done.";
/** The reply to a turn with no ground-truth calls: a value or a function is missing (miss_param, miss_func). */
export const BFCL_REFERENCE_CANNOT =
  "I can't do that with the functions and details I have. Please tell me the missing information or give me a function that can do it.";

interface ReferenceSource {
  create(taskId: string): Promise<EnvInstance>;
  readonly options: { dataDir?: string };
}

/**
 * The task's reference episode, stepped through a fresh instance of `env` (its observations are the env's own);
 * `undefined` for an entry no answer can pass.
 */
export async function bfclReferenceSolution(env: ReferenceSource, taskId: string): Promise<ChatMessage[] | undefined> {
  const instance = await env.create(taskId);
  try {
    return await playGroundTruth(instance, taskId, env.options.dataDir);
  } finally {
    await instance.release();
  }
}

async function playGroundTruth(instance: EnvInstance, taskId: string, dataDir: string | undefined): Promise<ChatMessage[] | undefined> {
  const category = categoryOf(taskId);
  const entry = loadBfclQuestions(category, dataDir).find((e) => e.id === taskId);
  const groundTruth = loadBfclGroundTruth(category, dataDir).get(taskId);
  if (!entry || !groundTruth) throw new EvolverError("BFCL_DATA_MISSING", `no question or ground truth for ${taskId}`);
  // A few entries have more ground-truth turns than questions; BFCL fails every answer to them.
  if (groundTruth.length !== entry.question.length) return undefined;
  // A second execution runs each call ahead of the environment, so its result is known when grouping.
  const lookahead = new BfclExecution(entry);
  const messages = structuredClone(instance.initial.messages);
  let seen = messages.map((m) => m.content).join("\n");
  let done = false;
  for (let turn = 0; turn < groundTruth.length && !done; turn++) {
    const calls = groundTruth[turn];
    for (let start = 0, step = 0; start < calls.length; step++) {
      const results: string[] = [];
      let end = start;
      while (end < calls.length && (end === start || !usesAny(calls[end], results, seen))) results.push(lookahead.executeText(calls[end++]));
      const action: ChatMessage = { role: "assistant", content: "", tool_calls: calls.slice(start, end).map((text, i) => toolCall(text, `ref_${turn}_${step}_${i}`, dataDir)) };
      const result = await instance.step(action);
      messages.push(action, ...result.observations);
      seen += result.observations.map((m) => `\n${m.content}`).join("");
      if (result.done) throw new EvolverError("BFCL_REFERENCE", `${taskId}: the episode ended during the calls of turn ${turn}`);
      start = end;
    }
    const reply: ChatMessage = { role: "assistant", content: calls.length > 0 ? BFCL_REFERENCE_DONE : BFCL_REFERENCE_CANNOT };
    const result = await instance.step(reply);
    messages.push(reply, ...result.observations);
    seen += result.observations.map((m) => `\n${m.content}`).join("");
    done = result.done;
  }
  if (!done) throw new EvolverError("BFCL_REFERENCE", `${taskId}: the episode did not end after the ground truth's ${groundTruth.length} turns`);
  return messages;
}

function categoryOf(taskId: string): BfclCategoryName {
  const category = bfclCategory(taskId).replace(/^multi_turn_/, "");
  if (!(BFCL_CATEGORIES as readonly string[]).includes(category)) throw new EvolverError("ENV_UNKNOWN_TASK", `bfcl-v3 has no task '${taskId}'`);
  return category as BfclCategoryName;
}

function toolCall(callText: string, id: string, dataDir: string | undefined): ToolCall {
  const [call] = parseBfclCallsAsJson(callText, dataDir);
  return { id, type: "function", function: call };
}

/** Whether a call's argument values appear in `results` but not in `seen` (the text of the conversation so far). */
function usesAny(callText: string, results: string[], seen: string): boolean {
  const call = parseBfclCall(callText);
  const values = [...call.positional, ...call.keyword.map(([, value]) => value)].flatMap(literalTexts);
  return values.some((text) => !seen.includes(text) && results.some((result) => result.includes(text)));
}

/** The texts a value could have been copied from: numbers, strings and their words, inside lists and dicts too. */
function literalTexts(value: PyValue): string[] {
  if (typeof value === "string") {
    // A value may be quoted inside a longer string ("... skyrocketing at $457.23 per share!").
    const words = value.split(/\s+/).map((word) => word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ""));
    return [value, ...words].filter((text) => text !== "");
  }
  if (typeof value === "number") return [String(value)];
  if (value instanceof PyFloat) return [formatPyFloat(value.value)];
  if (value instanceof PyTuple) return value.items.flatMap(literalTexts);
  if (Array.isArray(value)) return value.flatMap(literalTexts);
  if (value instanceof Map) return [...value.values()].flatMap(literalTexts);
  if (isPyDict(value)) return Object.values(value).flatMap(literalTexts);
  return [];
}
