// One interface for the rule extractor and the LLM extractor.
import type { Trajectory } from "../../agent/index.js";
import type { NewExperience } from "./schema.js";

export interface ExtractionResult {
  experiences: NewExperience[];
  /** Items the extractor produced that did not fit the schema: dropped and counted. */
  invalid: number;
}

export interface ExperienceExtractor {
  readonly id: string;
  /** Experiences from one group (the rollouts of one training task). */
  extract(group: readonly Trajectory[], options?: { signal?: AbortSignal }): Promise<ExtractionResult>;
}
