// How tool calls travel between the agent and a model. Three formats:
// - native: tools go in the request (`tools` of an OpenAI-compatible API, the chat template's tools option) and the
//   backend parses the calls. In token rollouts the sampled text is parsed in the syntax the model's template
//   teaches (`nativeFormatFor`): Qwen/Hermes <tool_call> JSON, Llama 3.1 JSON, Mistral [TOOL_CALLS], by the same
//   parsers the embedded chat provider and `evolver model serve` use (llm/tool-calls.ts).
// - hermes: for raw models; tools are described in the system prompt and calls are written as
//   <tool_call>{"name": ..., "arguments": {...}}</tool_call>.
// - bfcl: BFCL's prompting format, a Python-like list `[func(a=1, b='x'), other()]`.
// A call the model botched is never an exception: `parse` reports it in `errors`, and the rollout shows the model
// an error observation ("Error: could not parse tool call: ...") so it can try again.
import { EvolverError } from "../core/errors.js";
import type { ChatMessage, ToolCall, ToolSchema } from "../core/messages.js";
import { parseToolCalls, toolArgumentsProblem, toolCallSyntaxes, type ToolCallSyntax } from "../llm/index.js";
import { parseBfclCallsAsJson } from "../env/index.js";
import { readJsonText, toPythonLiteral } from "./json-text.js";

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
    const problem = toolArgumentsProblem(call.function.arguments);
    if (problem) errors.push({ callId: call.id, message: `${call.function.name}: ${problem}` });
  }
  return errors;
}

// ---- Hermes, and the native syntaxes of the families (read and written by llm/tool-calls.ts) ------------------

/** A family's syntax as a format: unreadable calls are reported as errors, the content is trimmed. */
function syntaxFormat(syntax: ToolCallSyntax): Pick<ToolCallFormat, "parse" | "format"> {
  return {
    parse(text, idPrefix) {
      const parsed = parseToolCalls(syntax, text, { makeId: (i) => `${idPrefix}_${i}`, invalid: "report" });
      return { ...parsed, content: parsed.content.trim() };
    },
    format: (toolCalls, content) => toolCallSyntaxes[syntax].format(toolCalls, content),
  };
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
  ...syntaxFormat("hermes"),
  formatToolResults: formatHermesResults,
};

const native: ToolCallFormat = { ...hermes, name: "native", nativeTools: true };

/**
 * The native format for a token rollout: tools travel through the model's chat template, and calls are read in the
 * syntax that template teaches its model (ChatTemplate.toolCallSyntax).
 */
export function nativeFormatFor(syntax: ToolCallSyntax): ToolCallFormat {
  return { ...native, ...syntaxFormat(syntax) };
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
