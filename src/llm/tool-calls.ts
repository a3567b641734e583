// Tool calls as each model family writes them in its text, read (whole or as a stream) and written back. One table,
// `toolCallSyntaxes`, keyed by the syntax a chat template teaches (ChatTemplate.toolCallSyntax):
//   hermes       Qwen2.5/3, Hermes: <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call> blocks among the text
//   llama3-json  Llama 3.1/3.2 custom tools: the whole reply is {"name": ..., "parameters": {...}} (after an optional
//                <|python_tag|>), several joined by ';'; any other reply is a plain answer
//   mistral      Mistral: text, then [TOOL_CALLS] and a JSON list of {"name": ..., "arguments": {...}}
// The embedded chat provider, `evolver model serve` (streamed and whole), the tool_choice grammar and the agent's
// tool formats all read and write calls through it. The arguments text is cut out of the model's output as written
// (not re-serialized), so 10.0 stays 10.0.
// Text meant as a call that cannot be read: with `invalid: "content"` it stays in the content (an OpenAI-style
// answer has no other place for it, and nothing the model wrote is lost); with `invalid: "report"` it becomes an
// `invalid` event (the agent shows the model the error).
import type { ToolCall } from "../core/messages.js";
import type { ToolCallSyntax } from "./types.js";

export type ToolCallEvent =
  | { type: "content"; text: string }
  /** `problem`: the call could be made out but its arguments are not a JSON object. */
  | { type: "tool_call"; call: ToolCall; problem?: string }
  | { type: "invalid"; text: string; message: string };

export interface ToolCallStreamParser {
  push(text: string): ToolCallEvent[];
  end(): ToolCallEvent[];
}

export interface ToolCallParserOptions {
  /** The id of the call made from the index-th attempt at a call (an unreadable one counts too). */
  makeId: (index: number) => string;
  /** Default "content". */
  invalid?: "content" | "report";
}

export interface ToolCallSyntaxSpec {
  readonly name: ToolCallSyntax;
  parser(options: ToolCallParserOptions): ToolCallStreamParser;
  /** The text a model of this family writes for these calls: parsing it gives the calls back. */
  format(toolCalls: ToolCall[], content?: string): string;
  /** How forced calls are laid out (tool_choice grammar): before + (open json close) joined by separator + after. */
  readonly layout: { argumentsKey: "arguments" | "parameters"; before: string; open: string; close: string; separator: string; after: string };
}

// ---- one call object ------------------------------------------------------------------------------------------

/** Why an arguments text is not a JSON object; undefined when it is one (or empty: no arguments). */
export function toolArgumentsProblem(text: string): string | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `arguments are not valid JSON (${(error as Error).message})`;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? undefined : "arguments must be a JSON object";
}

/** Splits `text` at `separator` where it stands outside JSON strings and brackets; [start, end) of each part. */
function topLevelParts(text: string, separator: string): [number, number][] {
  const parts: [number, number][] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    } else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === separator && depth === 0) {
      parts.push([start, i]);
      start = i + 1;
    }
  }
  parts.push([start, text.length]);
  return parts;
}

/** The text of the value of a top-level key of a JSON object text (valid JSON), or undefined. */
function topLevelValueText(json: string, key: string): string | undefined {
  const body = json.trim();
  for (const [start, end] of topLevelParts(body.slice(1, -1), ",")) {
    const member = body.slice(1 + start, 1 + end);
    const [, keyEnd] = topLevelParts(member, ":")[0];
    if (JSON.parse(member.slice(0, keyEnd)) === key) return member.slice(keyEnd + 1).trim();
  }
  return undefined;
}

type ReadCall = { call: ToolCall; problem?: string } | { message: string };

/** One {"name": ..., "arguments" | "parameters": ...} object; `where` names the syntax in messages. */
function readCall(body: string, id: string, where: string): ReadCall {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { message: `invalid JSON in ${where} (${(error as Error).message}): ${abbreviate(body)}` };
  }
  const object = parsed as { name?: unknown; arguments?: unknown; parameters?: unknown };
  if (typeof object !== "object" || object === null || Array.isArray(object) || typeof object.name !== "string" || object.name === "") {
    return { message: `${where} needs a "name" string: ${abbreviate(body)}` };
  }
  const key = "arguments" in object ? "arguments" : "parameters" in object ? "parameters" : undefined;
  let args = "{}";
  if (key !== undefined) args = typeof object[key] === "string" ? (object[key] as string) : topLevelValueText(body, key)!; // some models write the arguments as a JSON string
  const call: ToolCall = { id, type: "function", function: { name: object.name, arguments: args } };
  const problem = toolArgumentsProblem(args);
  return problem ? { call, problem: `${object.name}: ${problem}` } : { call };
}

function abbreviate(text: string, limit = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= limit ? flat : `${flat.slice(0, limit)}…`;
}

/** Length of the longest suffix of `text` that is a proper prefix of `marker`. */
function partialMarkerAtEnd(text: string, marker: string): number {
  for (let length = Math.min(marker.length - 1, text.length); length > 0; length--) {
    if (text.endsWith(marker.slice(0, length))) return length;
  }
  return 0;
}

/**
 * Content around calls, as an answer shows it: whitespace before a call and right after one is dropped, content on
 * both sides of a call is joined by a newline; a reply without calls keeps its text exactly.
 */
class ContentJoiner {
  private heldSpace = "";
  private afterCall = false;
  private sent = false;
  calls = 0;

  add(text: string, events: ToolCallEvent[]): void {
    if (text === "") return;
    const trimmed = text.trimEnd();
    if (trimmed === "") {
      if (!this.afterCall) this.heldSpace += text;
      return;
    }
    let out = this.afterCall ? trimmed.trimStart() : this.heldSpace + trimmed;
    if (this.afterCall && this.sent) out = `\n${out}`;
    this.afterCall = false;
    this.heldSpace = text.slice(trimmed.length);
    this.sent = true;
    events.push({ type: "content", text: out });
  }

  call(event: ToolCallEvent, events: ToolCallEvent[]): void {
    this.calls++;
    this.heldSpace = "";
    this.afterCall = true;
    events.push(event);
  }

  end(events: ToolCallEvent[]): void {
    if (this.calls === 0 && this.heldSpace) events.push({ type: "content", text: this.heldSpace });
    this.heldSpace = "";
  }
}

/**
 * What every syntax's stream parser shares: text collects in `buffer` until the syntax can read it; content goes out
 * through the joiner, call attempts through `attempt`. A syntax says how it reads (`read`, after each push) and what
 * the rest of the text is once it has all arrived (`readRest`).
 */
abstract class SyntaxParser implements ToolCallStreamParser {
  protected buffer = "";
  protected readonly joiner = new ContentJoiner();
  private attempts = 0;

  constructor(protected readonly options: ToolCallParserOptions) {}

  push(text: string): ToolCallEvent[] {
    this.buffer += text;
    const events: ToolCallEvent[] = [];
    this.read(events);
    return events;
  }

  end(): ToolCallEvent[] {
    const events: ToolCallEvent[] = [];
    this.readRest(events);
    this.buffer = "";
    this.joiner.end(events);
    return events;
  }

  /** Reads what it can of `buffer`, leaving in it what has to wait for more text. */
  protected abstract read(events: ToolCallEvent[]): void;

  /** Reads what is left in `buffer` when the text has ended. */
  protected abstract readRest(events: ToolCallEvent[]): void;

  /**
   * Passes on the content before `marker` and leaves the buffer starting at it; true when it was found. Without it,
   * a partial marker at the end stays in the buffer, and the rest is content.
   */
  protected contentUntil(marker: string, events: ToolCallEvent[]): boolean {
    const at = this.buffer.indexOf(marker);
    const cut = at >= 0 ? at : this.buffer.length - partialMarkerAtEnd(this.buffer, marker);
    this.joiner.add(this.buffer.slice(0, cut), events);
    this.buffer = this.buffer.slice(cut);
    return at >= 0;
  }

  /**
   * One attempt at a call (`body`: its JSON object; `written`: all the text it came from) → the call, or, unreadable,
   * its text as content or an invalid event. Every attempt takes the next id, an unreadable one too.
   */
  protected attempt(body: string, where: string, written: string, events: ToolCallEvent[]): void {
    const read = readCall(body, this.options.makeId(this.attempts++), where);
    if ("call" in read) this.joiner.call({ type: "tool_call", call: read.call, ...(read.problem ? { problem: read.problem } : {}) }, events);
    else if (this.options.invalid === "report") events.push({ type: "invalid", text: written, message: read.message });
    else this.joiner.add(written, events);
  }
}

// ---- Hermes ---------------------------------------------------------------------------------------------------

const OPEN = "<tool_call>";
const CLOSE = "</tool_call>";

class HermesParser extends SyntaxParser {
  private inBlock = false;

  protected read(events: ToolCallEvent[]): void {
    for (;;) {
      if (!this.inBlock) {
        if (!this.contentUntil(OPEN, events)) return;
        this.inBlock = true;
      }
      const close = this.buffer.indexOf(CLOSE);
      if (close < 0) return;
      const block = this.buffer.slice(0, close + CLOSE.length);
      this.buffer = this.buffer.slice(block.length);
      this.inBlock = false;
      this.attempt(block.slice(OPEN.length, -CLOSE.length).trim(), OPEN, block, events);
    }
  }

  /** An unterminated block is content (or reported). */
  protected readRest(events: ToolCallEvent[]): void {
    if (this.inBlock && this.options.invalid === "report") {
      events.push({ type: "invalid", text: this.buffer, message: `unterminated ${OPEN} block: ${abbreviate(this.buffer)}` });
    } else {
      this.joiner.add(this.buffer, events);
    }
  }
}

function formatHermes(toolCalls: ToolCall[], content = ""): string {
  const blocks = toolCalls.map((call) => {
    const args = toolArgumentsProblem(call.function.arguments) ? JSON.stringify(call.function.arguments) : call.function.arguments.trim() || "{}";
    return `${OPEN}\n{"name": ${JSON.stringify(call.function.name)}, "arguments": ${args}}\n${CLOSE}`;
  });
  return [content.trim(), ...blocks].filter((part) => part !== "").join("\n");
}

// ---- Llama 3.1 JSON -------------------------------------------------------------------------------------------

const PYTHON_TAG = "<|python_tag|>";

class Llama3JsonParser extends SyntaxParser {
  private mode: "start" | "content" | "calls" = "start";

  protected read(events: ToolCallEvent[]): void {
    if (this.mode === "start") {
      const lead = this.buffer.trimStart();
      if (lead === "" || (PYTHON_TAG.startsWith(lead) && lead !== PYTHON_TAG)) return; // not decided yet
      if (lead.startsWith(PYTHON_TAG) || lead.startsWith("{")) {
        this.mode = "calls";
        this.buffer = lead.startsWith(PYTHON_TAG) ? lead.slice(PYTHON_TAG.length) : lead;
      } else {
        this.mode = "content";
      }
    }
    if (this.mode === "content") {
      this.joiner.add(this.buffer, events);
      this.buffer = "";
      return;
    }
    // Each call is read as soon as the ';' after it arrives; the last one at the end.
    const parts = topLevelParts(this.buffer, ";");
    for (const [start, end] of parts.slice(0, -1)) this.readPart(this.buffer.slice(start, end), this.buffer.slice(start, end + 1), events);
    this.buffer = this.buffer.slice(parts[parts.length - 1][0]);
  }

  protected readRest(events: ToolCallEvent[]): void {
    if (this.mode === "calls") this.readPart(this.buffer, this.buffer, events);
    else this.joiner.add(this.buffer, events);
  }

  private readPart(part: string, written: string, events: ToolCallEvent[]): void {
    if (part.trim() !== "") this.attempt(part.trim(), "a tool call", written, events);
  }
}

function formatLlama3Json(toolCalls: ToolCall[], content = ""): string {
  if (toolCalls.length === 0) return content.trim();
  return toolCalls.map((call) => `{"name": ${JSON.stringify(call.function.name)}, "parameters": ${call.function.arguments.trim() || "{}"}}`).join("; ");
}

// ---- Mistral --------------------------------------------------------------------------------------------------

const TOOL_CALLS = "[TOOL_CALLS]";

class MistralParser extends SyntaxParser {
  private inCalls = false;

  protected read(events: ToolCallEvent[]): void {
    if (this.inCalls || !this.contentUntil(TOOL_CALLS, events)) return; // the list is read whole, at the end
    this.buffer = this.buffer.slice(TOOL_CALLS.length);
    this.inCalls = true;
  }

  protected readRest(events: ToolCallEvent[]): void {
    if (!this.inCalls) return this.joiner.add(this.buffer, events);
    const body = this.buffer.trim();
    try {
      JSON.parse(body);
    } catch (error) {
      const message = `invalid JSON after ${TOOL_CALLS} (${(error as Error).message}): ${abbreviate(body)}`;
      if (this.options.invalid === "report") events.push({ type: "invalid", text: this.buffer, message });
      else this.joiner.add(TOOL_CALLS + this.buffer, events);
      return;
    }
    const items = body.startsWith("[") ? topLevelParts(body.slice(1, -1), ",").map(([s, e]) => body.slice(1 + s, 1 + e).trim()) : [body];
    for (const item of items) if (item !== "") this.attempt(item, `a ${TOOL_CALLS} item`, item, events);
  }
}

function formatMistral(toolCalls: ToolCall[], content = ""): string {
  if (toolCalls.length === 0) return content.trim();
  const calls = toolCalls.map((call) => `{"name": ${JSON.stringify(call.function.name)}, "arguments": ${call.function.arguments.trim() || "{}"}}`);
  return `${content.trim()}${TOOL_CALLS}[${calls.join(", ")}]`;
}

// ---- the table ------------------------------------------------------------------------------------------------

export const toolCallSyntaxes: Record<ToolCallSyntax, ToolCallSyntaxSpec> = {
  hermes: {
    name: "hermes",
    parser: (options) => new HermesParser(options),
    format: formatHermes,
    layout: { argumentsKey: "arguments", before: "", open: `${OPEN}\n`, close: `\n${CLOSE}`, separator: "\n", after: "" },
  },
  "llama3-json": {
    name: "llama3-json",
    parser: (options) => new Llama3JsonParser(options),
    format: formatLlama3Json,
    layout: { argumentsKey: "parameters", before: "", open: "", close: "", separator: "; ", after: "" },
  },
  mistral: {
    name: "mistral",
    parser: (options) => new MistralParser(options),
    format: formatMistral,
    layout: { argumentsKey: "arguments", before: `${TOOL_CALLS}[`, open: "", close: "", separator: ", ", after: "]" },
  },
};

export interface ParsedText {
  content: string;
  toolCalls: ToolCall[];
  /** With `invalid: "report"`: what could not be read, and calls whose arguments are not a JSON object. */
  errors: { callId?: string; message: string }[];
}

/** A whole text, read as the stream parser reads it (so streamed and whole answers agree). */
export function parseToolCalls(syntax: ToolCallSyntax, text: string, options: ToolCallParserOptions): ParsedText {
  const parser = toolCallSyntaxes[syntax].parser(options);
  const result: ParsedText = { content: "", toolCalls: [], errors: [] };
  for (const event of [...parser.push(text), ...parser.end()]) {
    if (event.type === "content") result.content += event.text;
    else if (event.type === "invalid") result.errors.push({ message: event.message });
    else {
      result.toolCalls.push(event.call);
      if (event.problem) result.errors.push({ callId: event.call.id, message: event.problem });
    }
  }
  return result;
}
