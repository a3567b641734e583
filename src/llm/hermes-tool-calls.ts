// Tool calls as Qwen2.5 / Hermes models write them: <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>.
// The arguments text is cut out of the model's output as written (not re-serialized), as ToolCall asks.
// One parser serves whole texts and streams alike (`HermesStreamParser`), so a streamed completion and the same
// completion at once give the same content and calls. Content is the text outside well-formed blocks; whitespace
// next to a well-formed block is dropped, and content on both sides of one is joined by a newline. A malformed or
// unterminated block stays in the content, so nothing the model wrote is lost.
import type { ToolCall } from "../core/messages.js";

export interface HermesParse {
  content: string;
  toolCalls: ToolCall[];
}

export type HermesEvent = { type: "content"; text: string } | { type: "tool_call"; call: ToolCall };

const OPEN = "<tool_call>";
const CLOSE = "</tool_call>";

/** The [start, end) of the value of a top-level key of a JSON object text, or undefined. */
function topLevelValueSpan(json: string, key: string): [number, number] | undefined {
  let depth = 0;
  let valueStart = -1;
  let pendingKey: string | undefined;
  for (let i = 0; i < json.length; i++) {
    const char = json[i];
    if (char === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === "\\" ? 2 : 1;
      if (depth === 1 && valueStart < 0) pendingKey = JSON.parse(json.slice(i, end + 1)) as string;
      i = end;
    } else if (char === ":" && depth === 1 && pendingKey === key) {
      valueStart = i + 1;
    } else if (char === "{" || char === "[") {
      depth++;
    } else if ((char === "}" || char === "]") && --depth === 0 && valueStart >= 0) {
      return [valueStart, i];
    } else if (char === "," && depth === 1) {
      if (valueStart >= 0) return [valueStart, i];
      pendingKey = undefined;
    }
  }
  return undefined;
}

/** The call in one block's body, or undefined when the body is not `{"name": string, "arguments": ...}` JSON. */
function readCall(inner: string, id: string): ToolCall | undefined {
  const body = inner.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const call = parsed as { name?: unknown; arguments?: unknown };
  if (typeof call !== "object" || call === null || typeof call.name !== "string") return undefined;
  const span = topLevelValueSpan(body, "arguments");
  const args = typeof call.arguments === "string" ? call.arguments : span ? body.slice(span[0], span[1]).trim() : "{}";
  return { id, type: "function", function: { name: call.name, arguments: args } };
}

/** Length of the longest suffix of `text` that is a proper prefix of `marker`. */
function partialMarkerAtEnd(text: string, marker: string): number {
  for (let length = Math.min(marker.length - 1, text.length); length > 0; length--) {
    if (text.endsWith(marker.slice(0, length))) return length;
  }
  return 0;
}

export class HermesStreamParser {
  private buffer = "";
  private inBlock = false;
  /** Whitespace seen after the last content, held until we know whether a block follows it. */
  private heldSpace = "";
  private afterCall = false;
  private contentSent = false;
  private calls = 0;

  constructor(private readonly makeId: (index: number) => string) {}

  push(text: string): HermesEvent[] {
    this.buffer += text;
    const events: HermesEvent[] = [];
    for (;;) {
      if (this.inBlock) {
        const close = this.buffer.indexOf(CLOSE);
        if (close < 0) return events;
        const block = this.buffer.slice(0, close + CLOSE.length);
        this.buffer = this.buffer.slice(block.length);
        this.inBlock = false;
        const call = readCall(block.slice(OPEN.length, -CLOSE.length), this.makeId(this.calls));
        if (call) {
          this.calls++;
          this.heldSpace = "";
          this.afterCall = true;
          events.push({ type: "tool_call", call });
        } else {
          this.content(block, events);
        }
      } else {
        const open = this.buffer.indexOf(OPEN);
        if (open < 0) {
          const keep = partialMarkerAtEnd(this.buffer, OPEN);
          this.content(this.buffer.slice(0, this.buffer.length - keep), events);
          this.buffer = this.buffer.slice(this.buffer.length - keep);
          return events;
        }
        this.content(this.buffer.slice(0, open), events);
        this.buffer = this.buffer.slice(open);
        this.inBlock = true;
      }
    }
  }

  /** The rest: an unterminated block is content; trailing whitespace stays only when no call was made. */
  end(): HermesEvent[] {
    const events: HermesEvent[] = [];
    this.content(this.buffer, events);
    this.buffer = "";
    if (this.calls === 0 && this.heldSpace) events.push({ type: "content", text: this.heldSpace });
    this.heldSpace = "";
    return events;
  }

  private content(text: string, events: HermesEvent[]): void {
    if (text === "") return;
    const trimmed = text.trimEnd();
    if (trimmed === "") {
      if (!this.afterCall) this.heldSpace += text;
      return;
    }
    let out = this.afterCall ? trimmed.trimStart() : this.heldSpace + trimmed;
    if (this.afterCall && this.contentSent) out = `\n${out}`;
    this.afterCall = false;
    this.heldSpace = text.slice(trimmed.length);
    this.contentSent = true;
    events.push({ type: "content", text: out });
  }
}

export function parseHermesToolCalls(text: string, makeId: (index: number) => string): HermesParse {
  const parser = new HermesStreamParser(makeId);
  const result: HermesParse = { content: "", toolCalls: [] };
  for (const event of [...parser.push(text), ...parser.end()]) {
    if (event.type === "content") result.content += event.text;
    else result.toolCalls.push(event.call);
  }
  return result;
}
