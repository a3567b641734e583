// Every message, as it happened. The only append-only strategy: token rollouts with it are one sequence.
import type { ContextStrategy } from "./types.js";

export function linearContext(): ContextStrategy {
  return {
    name: "linear",
    appendOnly: true,
    build: ({ history }) => [...history],
  };
}
