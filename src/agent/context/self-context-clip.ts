// The model manages its own context. Convention (also told to the model in the system prompt):
// - every message after the task that is not the model's own is shown with a label `[#n] ` (n = its index in the
//   history). Assistant messages are not labelled: a model that sees labels on its own turns starts writing them.
// - anywhere in a reply the model may write `<drop ids="3,5"/>`; from the next prompt on, messages 3 and 5 are
//   replaced by a stub `[#3 dropped]` that keeps the role and the tool-call pairing (tool_calls, tool_call_id).
// - pinned messages (the task) cannot be dropped, nor can a message be dropped before it exists.
// The drop tags stay in the recorded assistant messages, so `build` is a pure function of the history.
import type { ChatMessage } from "../../core/messages.js";
import type { ContextStrategy } from "./types.js";

const DROP_TAG = /<drop\s+ids\s*=\s*"([^"]*)"\s*\/?>/g;

export const selfContextClipInstructions =
  "Context management: messages after the task are labelled [#n]. When one is no longer needed, you can drop it " +
  'to save space by writing <drop ids="n,m"/> anywhere in your reply; a dropped message is replaced by a short stub.';

export function selfContextClipContext(): ContextStrategy {
  return {
    name: "self-context-clip",
    appendOnly: false,
    build({ history, pinned }) {
      const dropped = droppedIds(history, pinned);
      const messages = history.map((message, id): ChatMessage => {
        if (id < pinned || message.role === "assistant") return message;
        if (dropped.has(id)) return { ...message, content: `[#${id} dropped]` };
        return { ...message, content: `[#${id}] ${message.content}` };
      });
      if (messages[0]?.role === "system") {
        messages[0] = { ...messages[0], content: `${messages[0].content}\n\n${selfContextClipInstructions}` };
      } else {
        messages.unshift({ role: "system", content: selfContextClipInstructions });
      }
      return messages;
    },
    splitReply(text) {
      const markup = [...text.matchAll(DROP_TAG)].map((match) => match[0]).join("");
      return { answer: text.replace(DROP_TAG, "").trim(), markup };
    },
  };
}

/** Ids named by drop tags in assistant messages, keeping only those after the pinned ones and before the tag. */
export function droppedIds(history: readonly ChatMessage[], pinned: number): Set<number> {
  const dropped = new Set<number>();
  history.forEach((message, index) => {
    if (message.role !== "assistant") return;
    for (const match of message.content.matchAll(DROP_TAG)) {
      for (const part of match[1].split(",")) {
        const id = Number(part.trim());
        if (part.trim() !== "" && Number.isInteger(id) && id >= pinned && id < index) dropped.add(id);
      }
    }
  });
  return dropped;
}
