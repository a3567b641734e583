// The task (pinned messages) plus the last N turns; a note says how many messages were left out so the model
// knows the gap is there. A turn starts at an assistant message, so tool results stay with the call they answer.
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage } from "../../core/messages.js";
import { turnsAfterPinned, type ContextStrategy } from "./types.js";

export function slidingWindowContext(options: { maxTurns?: number } = {}): ContextStrategy {
  const maxTurns = options.maxTurns ?? 8;
  if (!Number.isInteger(maxTurns) || maxTurns < 1) {
    throw new EvolverError("AGENT_CONTEXT", `sliding-window needs maxTurns >= 1, got ${maxTurns}`);
  }
  return {
    name: `sliding-window:${maxTurns}`,
    appendOnly: false,
    build({ history, pinned }) {
      const turns = turnsAfterPinned(history, pinned);
      if (turns.length <= maxTurns) return [...history];
      const keepFrom = turns[turns.length - maxTurns].start;
      const omitted = keepFrom - pinned;
      const note: ChatMessage = { role: "user", content: `[${omitted} earlier message${omitted === 1 ? " was" : "s were"} omitted to save context]` };
      return [...history.slice(0, pinned), note, ...history.slice(keepFrom)];
    },
  };
}
