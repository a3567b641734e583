// A context strategy turns the interaction so far into the messages of the next prompt. Each is a small object,
// picked by name (see index.ts); rollouts take one as a parameter.
import type { ChatMessage, ToolCall, ToolSchema } from "../../core/messages.js";

export interface ContextInput {
  /** Every message of the episode so far, in order; a message's id is its index here. */
  history: readonly ChatMessage[];
  /** How many leading messages are the task itself (system prompt, experience, first user turn): always kept. */
  pinned: number;
}

export interface ContextStrategy {
  readonly name: string;
  /**
   * True when every prompt is the previous prompt plus the model's reply plus the new messages (the prefix
   * property). Token rollouts then extend one token sequence; otherwise each model call is its own sequence
   * (see agent/trajectory.ts). With `toolSelection`, a call offered other tools than the previous one starts a new
   * sequence too: the tools are part of the prompt.
   */
  readonly appendOnly: boolean;
  build(input: ContextInput): ChatMessage[];
  /**
   * Separates markup meant for the strategy (e.g. self-context-clip's <drop/> tags) from the model's answer, so
   * tool calls are parsed from the answer alone. The rollout keeps the markup in the recorded message, where
   * `build` reads it back.
   */
  splitReply?(text: string): { answer: string; markup: string };
  /** Strategies that choose which of the environment's tools each call is offered (tool-retrieval). */
  readonly toolSelection?: ToolSelection;
}

export interface ToolSelection {
  /** The tools of the next call, among those the environment offers now, with timings for the rollout's metrics. */
  select(input: { history: readonly ChatMessage[]; pinned: number; available: readonly ToolSchema[]; signal?: AbortSignal }): Promise<{
    tools: ToolSchema[];
    indexMs: number;
    queryMs: number;
    searchMs: number;
  }>;
  /** Tools the strategy answers itself (never sent to the environment), offered to every call after `select`'s. */
  readonly metaTools: readonly ToolSchema[];
  /** The result of a call of one of `metaTools`. */
  answer(call: ToolCall, available: readonly ToolSchema[], signal?: AbortSignal): Promise<string>;
}

/**
 * The messages after the pinned ones, cut into turns: each turn starts at an assistant message and runs until the
 * next one (its tool results, the next user message). Messages before the first assistant message form a turn too.
 */
export function turnsAfterPinned(history: readonly ChatMessage[], pinned: number): { start: number; end: number }[] {
  const turns: { start: number; end: number }[] = [];
  for (let i = pinned; i < history.length; i++) {
    if (turns.length === 0 || history[i].role === "assistant") turns.push({ start: i, end: i + 1 });
    else turns[turns.length - 1].end = i + 1;
  }
  return turns;
}
