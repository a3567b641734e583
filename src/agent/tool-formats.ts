// How tool calls travel between the agent and a model. Three formats:
// - native: tools go in the request (`tools` of an OpenAI-compatible API, the chat template's tools option) and the
//   backend parses the calls. In token rollouts the sampled text is parsed in the syntax the model's template
//   teaches (`nativeFormatFor`): Qwen/Hermes <tool_call> JSON, Llama 3.1 JSON, Mistral [TOOL_CALLS].
// - hermes: for raw models; tools are described in the system prompt and calls are written as
//   <tool_call>{"name": ..., "arguments": {...}}</tool_call>.
// - bfcl: BFCL's prompting format, a Python-like list `[func(a=1, b='x'), other()]`.
// A call the model botched is never an exception: `parse` reports it in `errors`, and the rollout shows the model
// an error observation ("Error: could not parse tool call: ...") so it can try again.
import { EvolverError } from "../core/errors.js";
import type { ChatMessage, ToolCall, ToolSchema } from "../core/messages.js";
import type { ToolCallSyntax } from "../llm/index.js";
import { parseBfclCallsAsJson } from "../env/index.js";
import { JsonTextError, objectEntry, readJsonText, toPythonLiteral, type JsonNode } from "./json-text.js";

export type ToolFormatName = "native" | "hermes" | "bfcl";
export const toolFormatNames: ToolFormatName[] = ["native", "hermes", "bfcl"];

export interface ToolCallError {
  /** The id of the call when the call itself could be made out (its arguments were bad). */
  callId?: string;
  message: string;
}

export interface ParsedToolCalls {
  /** The text outside the calls. */
  content: string;
  /** Calls that could be made out, with their arguments text exactly as written. */
  toolCalls: ToolCall[];
  errors: ToolCallError[];
}

export interface ToolCallFormat {
  readonly name: ToolFormatName;
  /** True when tools travel in the request rather than in the prompt text. */
  readonly nativeTools: boolean;
  /** Prompt text that lists the tools and says how to call them (also used to announce tools added mid-episode). */
  describeTools(tools: ToolSchema[]): string;
  /** Model output (thinking already removed) → text and calls. `idPrefix` makes the call ids, `${idPrefix}_${i}`. */
  parse(text: string, idPrefix: string): ParsedToolCalls;
  /** The text a model writes for these calls: parse(format(calls)) gives the calls back. */
  format(toolCalls: ToolCall[], content?: string): string;
  /** Tool results as one text block, for raw-text models behind a chat API that has no tool role for them. */
  formatToolResults(results: ChatMessage[]): string;
}

/** Checks calls a backend parsed (native): each arguments text must be a JSON object. */
export function checkToolCalls(toolCalls: ToolCall[]): ToolCallError[] {
  const errors: ToolCallError[] = [];
  for (const call of toolCalls) {
    const problem = argumentsProblem(call.function.arguments);
    if (problem) errors.push({ callId: call.id, message: `${call.function.name}: ${problem}` });
  }
  return errors;
}

function argumentsProblem(text: string): string | undefined {
  if (text.trim() === "") return undefined; // no arguments
  try {
    return readJsonText(text).type === "object" ? undefined : "arguments must be a JSON object";
  } catch (error) {
    return `arguments are not valid JSON (${(error as Error).message})`;
  }
}

// ---- Hermes ---------------------------------------------------------------------------------------------------

const TOOL_CALL_BLOCK = /<tool_call>([\s\S]*?)<\/tool_call>/g;

function parseHermes(text: string, idPrefix: string): ParsedToolCalls {
  const toolCalls: ToolCall[] = [];
  const errors: ToolCallError[] = [];
  let rest = text.replace(TOOL_CALL_BLOCK, (_, body: string) => {
    const index = toolCalls.length + errors.length;
    const { call, error } = hermesCall(body.trim(), `${idPrefix}_${index}`);
    if (call) toolCalls.push(call);
    if (error) errors.push(error);
    return "";
  });
  const unclosed = rest.indexOf("<tool_call>");
  if (unclosed >= 0) {
    errors.push({ message: `unterminated <tool_call> block: ${abbreviate(rest.slice(unclosed))}` });
    rest = rest.slice(0, unclosed);
  }
  return { content: rest.trim(), toolCalls, errors };
}

/** A call whose arguments are bad is still returned (its id is named by the error), so replies can pair up. */
function hermesCall(body: string, id: string): { call?: ToolCall; error?: ToolCallError } {
  let node: JsonNode;
  try {
    node = readJsonText(body);
  } catch (error) {
    return { error: { message: `invalid JSON in <tool_call> (${(error as JsonTextError).message}): ${abbreviate(body)}` } };
  }
  const name = objectEntry(node, "name");
  if (name?.type !== "string" || name.value === "") return { error: { message: `<tool_call> needs a "name" string: ${abbreviate(body)}` } };
  const args = objectEntry(node, "arguments") ?? objectEntry(node, "parameters");
  let argumentsText = "{}";
  if (args?.type === "string") argumentsText = args.value; // some models write the arguments as a JSON string
  else if (args !== undefined) argumentsText = body.slice(args.start, args.end);
  const call: ToolCall = { id, type: "function", function: { name: name.value, arguments: argumentsText } };
  const problem = argumentsProblem(argumentsText);
  return problem ? { call, error: { callId: id, message: `${name.value}: ${problem}` } } : { call };
}

function formatHermes(toolCalls: ToolCall[], content = ""): string {
  const blocks = toolCalls.map((call) => {
    const args = argumentsProblem(call.function.arguments) ? JSON.stringify(call.function.arguments) : call.function.arguments.trim() || "{}";
    return `<tool_call>\n{"name": ${JSON.stringify(call.function.name)}, "arguments": ${args}}\n</tool_call>`;
  });
  return [content.trim(), ...blocks].filter((part) => part !== "").join("\n");
}

function describeHermes(tools: ToolSchema[]): string {
  return [
    "# Tools",
    "",
    "You may call one or more functions to help with the user's request. Their signatures are listed inside <tools></tools>, one JSON object per line:",
    "<tools>",
    ...tools.map((tool) => JSON.stringify(tool)),
    "</tools>",
    "",
    "To call a function, write a JSON object with its name and arguments inside <tool_call></tool_call> tags, one block per call:",
    "<tool_call>",
    '{"name": <function-name>, "arguments": <args-json-object>}',
    "</tool_call>",
  ].join("\n");
}

function formatHermesResults(results: ChatMessage[]): string {
  return results.map((result) => `<tool_response>\n${result.content}\n</tool_response>`).join("\n");
}

const hermes: ToolCallFormat = {
  name: "hermes",
  nativeTools: false,
  describeTools: describeHermes,
  parse: parseHermes,
  format: formatHermes,
  formatToolResults: formatHermesResults,
};

const native: ToolCallFormat = { ...hermes, name: "native", nativeTools: true };

// ---- Llama 3.1 and Mistral: what a template that shows tools natively asks its model to write ----------------

/** One call object, {"name": ..., "arguments" | "parameters": {...}}, at `node` inside `text`. */
function jsonCall(text: string, node: JsonNode, id: string): { call?: ToolCall; error?: ToolCallError } {
  return hermesCall(text.slice(node.start, node.end), id);
}

/**
 * Llama 3.1's JSON tool calls: the reply is a JSON object {"name": ..., "parameters": {...}} (optionally after
 * <|python_tag|>), or several separated by ';'. Anything else is a plain answer.
 */
function parseLlama3Json(text: string, idPrefix: string): ParsedToolCalls {
  const body = text.replace(/^\s*<\|python_tag\|>/, "").trim();
  if (!body.startsWith("{")) return { content: text.trim(), toolCalls: [], errors: [] };
  const toolCalls: ToolCall[] = [];
  const errors: ToolCallError[] = [];
  for (const [index, part] of splitTopLevel(body, ";").entries()) {
    const { call, error } = hermesCall(part.trim(), `${idPrefix}_${index}`);
    if (call) toolCalls.push(call);
    if (error) errors.push(error);
  }
  return { content: "", toolCalls, errors };
}

function formatLlama3Json(toolCalls: ToolCall[], content = ""): string {
  if (toolCalls.length === 0) return content.trim();
  return toolCalls.map((call) => `{"name": ${JSON.stringify(call.function.name)}, "parameters": ${call.function.arguments.trim() || "{}"}}`).join("; ");
}

/** Mistral's [TOOL_CALLS] followed by a JSON list of {"name", "arguments"} objects; text before it is content. */
function parseMistral(text: string, idPrefix: string): ParsedToolCalls {
  const at = text.indexOf("[TOOL_CALLS]");
  if (at < 0) return { content: text.trim(), toolCalls: [], errors: [] };
  const content = text.slice(0, at).trim();
  const body = text.slice(at + "[TOOL_CALLS]".length).trim();
  let list: JsonNode;
  try {
    list = readJsonText(body);
  } catch (error) {
    return { content, toolCalls: [], errors: [{ message: `invalid JSON after [TOOL_CALLS] (${(error as JsonTextError).message}): ${abbreviate(body)}` }] };
  }
  const items = list.type === "array" ? list.items : [list];
  const toolCalls: ToolCall[] = [];
  const errors: ToolCallError[] = [];
  items.forEach((item, index) => {
    const { call, error } = jsonCall(body, item, `${idPrefix}_${index}`);
    if (call) toolCalls.push(call);
    if (error) errors.push(error);
  });
  return { content, toolCalls, errors };
}

function formatMistral(toolCalls: ToolCall[], content = ""): string {
  if (toolCalls.length === 0) return content.trim();
  const calls = toolCalls.map((call) => `{"name": ${JSON.stringify(call.function.name)}, "arguments": ${call.function.arguments.trim() || "{}"}}`);
  return `${content.trim()}[TOOL_CALLS][${calls.join(", ")}]`;
}

/** Splits on `separator` outside JSON strings and brackets. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((part) => part.trim() !== "");
}

/**
 * The native format for a token rollout: tools travel through the model's chat template, and calls are read in the
 * syntax that template teaches its model (ChatTemplate.toolCallSyntax).
 */
export function nativeFormatFor(syntax: ToolCallSyntax): ToolCallFormat {
  if (syntax === "llama3-json") return { ...native, parse: parseLlama3Json, format: formatLlama3Json };
  if (syntax === "mistral") return { ...native, parse: parseMistral, format: formatMistral };
  return native;
}

// ---- BFCL -----------------------------------------------------------------------------------------------------

/**
 * BFCL's call-list parser: `[f(a=1), g(b='x')]` → calls with their arguments as JSON text (floats written with a
 * fraction, so 10.0 stays a float). Throws on text that is not a call list. Default: the BFCL environment's
 * `parseBfclCallsAsJson` (literals only, never evaluated; positional arguments named from BFCL's function docs).
 */
export type BfclCallParser = (text: string) => { name: string; arguments: string }[];

/** Text that is meant as calls: an optional '[' then a (dotted) name and '('. Anything else is a plain answer. */
const LOOKS_LIKE_CALLS = /^\[?\s*[A-Za-z_][\w.]*\s*\(/;

function createBfclFormat(parseCalls: BfclCallParser): ToolCallFormat {
  return {
    name: "bfcl",
    nativeTools: false,
    describeTools(tools) {
      return [
        "You are an expert in composing functions. You are given a question and a set of possible functions. Based on the question, make one or more function calls to achieve the purpose. If none of the functions can be used, say so. If the question lacks parameters a function requires, say so.",
        "",
        "To call functions, reply with nothing but a list in the form [func_name1(param1=value1, param2=value2), func_name2(param=value)].",
        "Within each turn, keep calling functions until the user's request is fulfilled; a reply without calls ends the turn.",
        "",
        "The functions you may call, in JSON:",
        JSON.stringify(tools.map((tool) => tool.function), null, 2),
      ].join("\n");
    },
    parse(text, idPrefix) {
      const stripped = text.trim().replace(/^```[a-zA-Z]*\s*/, "").replace(/\s*```$/, "").trim();
      if (!LOOKS_LIKE_CALLS.test(stripped)) return { content: text.trim(), toolCalls: [], errors: [] };
      const list = stripped.startsWith("[") ? stripped : `[${stripped}]`;
      try {
        const calls = parseCalls(list);
        const toolCalls = calls.map((call, i): ToolCall => ({ id: `${idPrefix}_${i}`, type: "function", function: call }));
        return { content: "", toolCalls, errors: [] };
      } catch (error) {
        return { content: "", toolCalls: [], errors: [{ message: `${(error as Error).message}: ${abbreviate(stripped)}` }] };
      }
    },
    format(toolCalls, content = "") {
      if (toolCalls.length === 0) return content.trim();
      return `[${toolCalls.map(formatBfclCall).join(", ")}]`;
    },
    formatToolResults(results) {
      return results.map((result) => `${result.name ?? "tool"} returned: ${result.content}`).join("\n");
    },
  };
}

function formatBfclCall(call: ToolCall): string {
  const text = call.function.arguments.trim() || "{}";
  const node = readJsonText(text);
  if (node.type !== "object") throw new EvolverError("AGENT_BAD_TOOL_CALL", `arguments of ${call.function.name} are not a JSON object`);
  const args = node.entries.map((entry) => `${entry.key}=${toPythonLiteral(text, entry.value)}`);
  return `${call.function.name}(${args.join(", ")})`;
}

// ---- the table ------------------------------------------------------------------------------------------------

export interface ToolFormatOptions {
  /** For "bfcl": the call-list parser; default the BFCL environment's. */
  parseBfclCalls?: BfclCallParser;
}

export function createToolFormat(name: string, options: ToolFormatOptions = {}): ToolCallFormat {
  if (name === "native") return native;
  if (name === "hermes") return hermes;
  if (name === "bfcl") return createBfclFormat(options.parseBfclCalls ?? ((text) => parseBfclCallsAsJson(text)));
  throw new EvolverError("AGENT_TOOL_FORMAT", `unknown tool-call format '${name}'; known: ${toolFormatNames.join(", ")}`, {
    details: { name, known: toolFormatNames },
  });
}

function abbreviate(text: string, limit = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= limit ? flat : `${flat.slice(0, limit)}…`;
}
