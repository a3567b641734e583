// The table of context strategies, picked by name: "linear", "linear-no-thinking", "sliding-window[:N]",
// "self-context-clip", "tool-retrieval[:k]".
import { EvolverError } from "../../core/errors.js";
import { linearContext } from "./linear.js";
import { linearNoThinkingContext } from "./linear-no-thinking.js";
import { selfContextClipContext } from "./self-context-clip.js";
import { slidingWindowContext } from "./sliding-window.js";
import { toolRetrievalContext, type ToolRetrievalOptions } from "./tool-retrieval.js";
import type { ContextStrategy } from "./types.js";

export type { ContextInput, ContextStrategy, ToolSelection } from "./types.js";
export { toolRetrievalContext, searchToolsSchema, namesSeen, SEARCH_TOOLS_NAME, DEFAULT_TOOL_RETRIEVAL_K, type ToolRetrievalOptions } from "./tool-retrieval.js";
export { ToolIndex, LEXICAL_WEIGHT, lexicalTerms, type ToolHit } from "./tool-index.js";
export { ToolEmbeddings, toolText } from "./tool-embeddings.js";
export { linearContext, linearNoThinkingContext, slidingWindowContext, selfContextClipContext };
export { selfContextClipInstructions, droppedIds } from "./self-context-clip.js";

export const contextStrategyNames = ["linear", "linear-no-thinking", "sliding-window", "self-context-clip", "tool-retrieval"];

/**
 * "sliding-window:4" keeps the last 4 turns, "tool-retrieval:8" offers 8 retrieved tools per call (`toolRetrieval`
 * sets its embedder and cache); the other names take no argument.
 */
export function createContextStrategy(spec: string, options: { toolRetrieval?: Omit<ToolRetrievalOptions, "k"> } = {}): ContextStrategy {
  const [name, argument] = spec.split(":", 2);
  if (name === "tool-retrieval") {
    const k = argument === undefined ? undefined : Number(argument);
    if (k !== undefined && !Number.isInteger(k)) throw new EvolverError("AGENT_CONTEXT", `tool-retrieval takes a whole number of tools, got '${argument}'`);
    return toolRetrievalContext({ ...options.toolRetrieval, k });
  }
  if (name === "sliding-window") {
    const maxTurns = argument === undefined ? undefined : Number(argument);
    if (maxTurns !== undefined && !Number.isInteger(maxTurns)) {
      throw new EvolverError("AGENT_CONTEXT", `sliding-window takes a whole number of turns, got '${argument}'`);
    }
    return slidingWindowContext({ maxTurns });
  }
  if (argument === undefined) {
    if (name === "linear") return linearContext();
    if (name === "linear-no-thinking") return linearNoThinkingContext();
    if (name === "self-context-clip") return selfContextClipContext();
  }
  throw new EvolverError("AGENT_CONTEXT", `unknown context strategy '${spec}'; known: ${contextStrategyNames.join(", ")} (sliding-window:N, tool-retrieval:K)`, {
    details: { spec, known: contextStrategyNames },
  });
}
