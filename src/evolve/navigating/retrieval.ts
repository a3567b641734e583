// Retrieval and injection: the task's first user message is embedded, the pool's top-k experiences above the
// threshold are rendered through the template, and the rollout hook puts them before the task's first user message
// (placement user) or in a system turn after the task's system prompt (placement system). Only the first
// ⌈η·n⌉ samples of each group of n are guided, the rest run without (mixed groups: the unguided ones are the
// comparison the pool's maintenance reads, and GRPO's group baseline keeps both).
import type { ExperienceHook } from "../../agent/index.js";
import type { ChatMessage } from "../../core/messages.js";
import type { Embedder } from "../../llm/index.js";
import type { ExperiencePool, RolloutKey, ScoredExperience } from "./pool.js";
import { renderExperiences, taskText } from "./template.js";

export interface RetrievalOptions {
  pool: ExperiencePool;
  embedder: Embedder;
  k: number;
  threshold: number;
  placement: "user" | "system";
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

export function createExperienceHook(options: RetrievalOptions): ExperienceHook {
  // The pool does not change while a batch runs, so each task's query is embedded and searched once.
  const byQuery = new Map<string, Promise<ScoredExperience[]>>();
  const retrieve = (query: string) => {
    let found = byQuery.get(query);
    if (!found) {
      found = options.embedder.embed([query], { signal: options.signal }).then(([vector]) => options.pool.search(vector, { k: options.k, threshold: options.threshold }));
      byQuery.set(query, found);
    }
    return found;
  };
  return async ({ groupKey, sampleIndex, messages }) => {
    if (!options.guided(sampleIndex)) return undefined;
    const query = taskText(messages);
    if (query === "") return undefined;
    const found = await retrieve(query);
    if (found.length === 0) return undefined;
    if (options.record) {
      const key: RolloutKey = { ...options.record, groupKey, sampleIndex };
      options.pool.recordRetrieval(key, found.map((f) => f.experience.id));
    }
    const message: ChatMessage = { role: options.placement, content: renderExperiences(found.map((f) => f.experience)) };
    return message;
  };
}
