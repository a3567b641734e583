// A scripted policy that follows a BFCL entry's ground truth while seeing only the tools it is offered (tool
// retrieval): for each turn, the turn's calls in one message, then a short reply that ends the turn. A needed tool
// that is not offered is searched for once with search_tools (the name's words as the query); a tool still not
// offered after that is one the policy cannot know of, so its calls are left out (and the episode will likely fail).
// Every needed tool is classified: retrieved (offered without a search), found (offered after one), missed.
import type { ToolCall } from "../../core/messages.js";
import { loadBfclGroundTruth, parseBfclCallsAsJson } from "../../env/index.js";
import type { ChatRequest } from "../../llm/index.js";
import { SEARCH_TOOLS_NAME } from "../context/index.js";
import { scriptedProvider, type ScriptedProvider } from "./scripted-provider.js";

export interface NeededTool {
  turn: number;
  name: string;
  how: "retrieved" | "found" | "missed";
}

export function groundTruthCalls(taskId: string, dataDir?: string): { name: string; arguments: string }[][] {
  const category = taskId.replace(/^multi_turn_/, "").replace(/_\d+$/, "") as "base" | "miss_func" | "miss_param" | "long_context";
  const truth = loadBfclGroundTruth(category, dataDir).get(taskId);
  if (!truth) throw new Error(`no ground truth for ${taskId}`);
  return truth.map((calls) => (calls.length === 0 ? [] : parseBfclCallsAsJson(`[${calls.join(", ")}]`)));
}

export function groundTruthPolicy(taskId: string, dataDir?: string): { provider: ScriptedProvider; needed: NeededTool[] } {
  const turns = groundTruthCalls(taskId, dataDir);
  const needed: NeededTool[] = [];
  let turn = 0;
  let searched = false;
  let answered = false;
  const provider = scriptedProvider((request: ChatRequest, call: number) => {
    const offered = new Set((request.tools ?? []).map((tool) => tool.function.name));
    const calls = turns[turn] ?? [];
    if (answered || calls.length === 0) {
      turn += 1;
      searched = false;
      answered = false;
      return "Done.";
    }
    const names = [...new Set(calls.map((c) => c.name))];
    const missing = names.filter((name) => !offered.has(name));
    if (!searched) {
      for (const name of names) needed.push({ turn, name, how: offered.has(name) ? "retrieved" : "missed" });
      if (missing.length > 0 && offered.has(SEARCH_TOOLS_NAME)) {
        searched = true;
        const tool_calls: ToolCall[] = missing.map((name, i) => ({
          id: `s${call}_${i}`,
          type: "function",
          function: { name: SEARCH_TOOLS_NAME, arguments: JSON.stringify({ query: name.replace(/_/g, " ") }) },
        }));
        return { message: { role: "assistant", content: "", tool_calls } };
      }
    } else {
      for (const entry of needed) if (entry.turn === turn && entry.how === "missed" && offered.has(entry.name)) entry.how = "found";
    }
    answered = true;
    const tool_calls: ToolCall[] = calls
      .filter((c) => offered.has(c.name))
      .map((c, i) => ({ id: `c${call}_${i}`, type: "function", function: { name: c.name, arguments: c.arguments } }));
    if (tool_calls.length === 0) {
      turn += 1;
      answered = false;
      searched = false;
      return "I cannot do that with the tools I have.";
    }
    return { message: { role: "assistant", content: "", tool_calls } };
  });
  return { provider, needed };
}
