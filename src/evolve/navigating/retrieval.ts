// Retrieval and injection: the task's first user message is embedded, the pool's top-k experiences above the
// threshold are rendered through the template, and the rollout hook puts them before the task's first user message
// (placement user) or in a system turn after the task's system prompt (placement system). With retrieval per turn,
// every model call gets its own: the query is what the agent was just told (the last step's observations, as the
// rule extractor keys an experience), and the experiences go in front of those observations. Only the first
// ⌈η·n⌉ samples of each group of n are guided, the rest run without (mixed groups: the unguided ones are the
// comparison the pool's maintenance reads, and GRPO's group baseline keeps both).
import type { ExperienceHook } from "../../agent/index.js";
import type { ChatMessage } from "../../core/messages.js";
import type { Embedder } from "../../llm/index.js";
import type { ExperiencePool, RolloutKey, ScoredExperience } from "./pool.js";
import { isExperienceMessage, renderExperiences, taskText } from "./template.js";

export interface RetrievalOptions {
  pool: ExperiencePool;
  embedder: Embedder;
  k: number;
  threshold: number;
  placement: "user" | "system";
  /** Share of the query's distinct words an experience's when_to_use must contain (0: any). */
  minWordOverlap?: number;
  /** episode: one retrieval, before the task's first user message; turn: one before every model call. */
  retrieval: "episode" | "turn";
  /** Which samples of a group are guided. */
  guided: (sampleIndex: number) => boolean;
  /** Training rollouts: what each rollout was given is written to the pool (evaluation never writes). */
  record?: { runId: string; iteration: number };
  signal?: AbortSignal;
}

/** The samples of a group of `groupSize` that an η share guides: the first ⌈η·n⌉ (η = 0: none; η = 1: all). */
export function guidedShare(eta: number, groupSize: number): (sampleIndex: number) => boolean {
  const guided = Math.ceil(eta * groupSize - 1e-9);
  return (sampleIndex) => sampleIndex < guided;
}

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

/** The share of the query's distinct words (letters and digits) that `text` contains; 1 for a query without any. */
export function wordOverlap(query: string, text: string): number {
  const asked = words(query);
  if (asked.size === 0) return 1;
  const have = words(text);
  let shared = 0;
  for (const word of asked) if (have.has(word)) shared += 1;
  return shared / asked.size;
}

/**
 * What the agent was just told before model call `step`: the task's first user message at step 0, else the
 * messages after the last assistant message (the last step's observations), experience passed over.
 */
export function turnText(messages: readonly ChatMessage[], step: number): string {
  if (step === 0) return taskText(messages);
  const afterAction = messages.findLastIndex((m) => m.role === "assistant") + 1;
  return messages
    .slice(afterAction)
    .filter((m) => m.role !== "system" && !isExperienceMessage(m))
    .map((m) => m.content)
    .join("\n")
    .trim();
}

export function createExperienceHook(options: RetrievalOptions): ExperienceHook {
  // The pool does not change while a batch runs, so each task's query is embedded and searched once.
  const byQuery = new Map<string, Promise<ScoredExperience[]>>();
  const minOverlap = options.minWordOverlap ?? 0;
  const retrieve = (query: string) => {
    let found = byQuery.get(query);
    if (!found) {
      // With the lexical guard, more candidates are read so that k can remain after it.
      const candidates = minOverlap > 0 ? Math.max(4 * options.k, 16) : options.k;
      found = options.embedder
        .embed([query], { signal: options.signal })
        .then(([vector]) => options.pool.search(vector, { k: candidates, threshold: options.threshold }))
        .then((scored) => scored.filter((s) => minOverlap === 0 || wordOverlap(query, s.experience.whenToUse) >= minOverlap).slice(0, options.k));
      byQuery.set(query, found);
    }
    return found;
  };
  return async ({ groupKey, sampleIndex, step, messages }) => {
    if (!options.guided(sampleIndex)) return undefined;
    if (step > 0 && options.retrieval === "episode") return undefined;
    const query = turnText(messages, step);
    if (query === "") return undefined;
    const found = await retrieve(query);
    if (found.length === 0) return undefined;
    if (options.record) {
      // A rollout guided at several turns records every experience it was given (the pool keeps the union).
      const key: RolloutKey = { ...options.record, groupKey, sampleIndex };
      options.pool.recordRetrieval(key, found.map((f) => f.experience.id));
    }
    const message: ChatMessage = { role: options.placement, content: renderExperiences(found.map((f) => f.experience)) };
    return message;
  };
}
