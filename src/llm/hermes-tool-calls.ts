// Tool calls as Qwen2.5 / Hermes models write them: <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>.
// The arguments text is cut out of the model's output as written (not re-serialized), as ToolCall asks.
import type { ToolCall } from "../core/messages.js";

export interface HermesParse {
  /** The text outside well-formed calls (a malformed block stays in it, so nothing the model wrote is lost). */
  content: string;
  toolCalls: ToolCall[];
}

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

export function parseHermesToolCalls(text: string, makeId: (index: number) => string): HermesParse {
  const toolCalls: ToolCall[] = [];
  let content = "";
  let last = 0;
  for (const match of text.matchAll(/<tool_call>([\s\S]*?)<\/tool_call>/g)) {
    const body = match[1].trim();
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      continue; // left in the content
    }
    const call = parsed as { name?: unknown; arguments?: unknown };
    if (typeof call !== "object" || call === null || typeof call.name !== "string") continue;
    const span = topLevelValueSpan(body, "arguments");
    const args = typeof call.arguments === "string" ? call.arguments : span ? body.slice(span[0], span[1]).trim() : "{}";
    toolCalls.push({ id: makeId(toolCalls.length), type: "function", function: { name: call.name, arguments: args } });
    content += text.slice(last, match.index);
    last = match.index + match[0].length;
  }
  content += text.slice(last);
  return { content: toolCalls.length > 0 ? content.trim() : content, toolCalls };
}
