// The table of context strategies, picked by name: "linear", "linear-no-thinking", "sliding-window[:N]",
// "self-context-clip".
import { EvolverError } from "../../core/errors.js";
import { linearContext } from "./linear.js";
import { linearNoThinkingContext } from "./linear-no-thinking.js";
import { selfContextClipContext } from "./self-context-clip.js";
import { slidingWindowContext } from "./sliding-window.js";
import type { ContextStrategy } from "./types.js";

export type { ContextInput, ContextStrategy } from "./types.js";
export { linearContext, linearNoThinkingContext, slidingWindowContext, selfContextClipContext };
export { selfContextClipInstructions, droppedIds } from "./self-context-clip.js";

export const contextStrategyNames = ["linear", "linear-no-thinking", "sliding-window", "self-context-clip"];

/** "sliding-window:4" keeps the last 4 turns; the other names take no argument. */
export function createContextStrategy(spec: string): ContextStrategy {
  const [name, argument] = spec.split(":", 2);
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
  throw new EvolverError("AGENT_CONTEXT", `unknown context strategy '${spec}'; known: ${contextStrategyNames.join(", ")} (sliding-window:N)`, {
    details: { spec, known: contextStrategyNames },
  });
}
