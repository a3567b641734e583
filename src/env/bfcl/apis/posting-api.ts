// Placeholder until the TwitterAPI backend lands; its author replaces this whole file.
import type { BfclApiClass } from "./types.js";

export const TwitterAPI: BfclApiClass = {
  className: "TwitterAPI",
  docFile: "posting_api",
  create() {
    throw new Error("TwitterAPI is not implemented yet");
  },
};
