// Placeholder until the MathAPI backend lands; its author replaces this whole file.
import type { BfclApiClass } from "./types.js";

export const MathAPI: BfclApiClass = {
  className: "MathAPI",
  docFile: "math_api",
  create() {
    throw new Error("MathAPI is not implemented yet");
  },
};
