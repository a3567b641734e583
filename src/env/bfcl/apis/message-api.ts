// Placeholder until the MessageAPI backend lands; its author replaces this whole file.
import type { BfclApiClass } from "./types.js";

export const MessageAPI: BfclApiClass = {
  className: "MessageAPI",
  docFile: "message_api",
  create() {
    throw new Error("MessageAPI is not implemented yet");
  },
};
