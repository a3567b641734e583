// What self-navigating needs from an experience pool. The run store implements it in SQLite with a sqlite-vec index
// (src/store/experience-pool.ts); this folder only reads and writes through this interface.
import type { Experience, ExperienceStatus, ExperienceUsage, NewExperience } from "./schema.js";

export interface ScoredExperience {
  experience: Experience;
  /** Cosine similarity of its when_to_use vector to the query. */
  similarity: number;
}

/** Which rollout a retrieval guided: the run's iteration, group and sample. */
export interface RolloutKey {
  runId: string;
  iteration: number;
  groupKey: string;
  sampleIndex: number;
}

export interface ExperiencePool {
  /** The embedder whose vectors the pool holds; vectors of another model are refused. */
  readonly embedderId: string;
  /** With `workKey`: added once, in the transaction that marks the work done (a resumed run adds nothing twice). */
  add(items: { experience: NewExperience; vector: Float32Array }[], provenance: { runId: string | null; iteration: number | null; workKey?: string }): Experience[];
  /** Active experiences, most similar first: at most k, each at least `threshold` similar. */
  search(query: Float32Array, options: { k: number; threshold: number }): ScoredExperience[];
  get(id: number): Experience;
  list(options?: { status?: ExperienceStatus | "all" }): Experience[];
  vector(id: number): Float32Array | undefined;
  update(id: number, fields: { whenToUse?: string; content?: string; vector?: Float32Array }): Experience;
  /** Out of retrieval (merged, retired, deleted), kept for provenance. */
  setStatus(id: number, status: Exclude<ExperienceStatus, "active">, note: string): void;
  /** Counts one near-duplicate merged into `id`. */
  countMerge(id: number): void;
  /** Adds to the experiences the rollout was given (a rollout guided at several turns is recorded once per turn). */
  recordRetrieval(key: RolloutKey, experienceIds: number[]): void;
  retrieval(key: RolloutKey): number[] | undefined;
  /** One rollout's outcome against each experience its group used (guided: it read them; else it ran without). */
  recordOutcome(key: RolloutKey, trajectoryId: string, guided: boolean, experienceIds: number[], success: boolean): void;
  usage(): ExperienceUsage[];
  /** Marks a piece of work done once (extraction of a group, maintenance of an iteration): false if already done. */
  claim(workKey: string): boolean;
  isClaimed(workKey: string): boolean;
  /** Runs `work` in one transaction. */
  transaction<T>(work: () => T): T;
  close(): void;
}
