// Self-navigating: experiences distilled from successes and failures, kept in a pool, retrieved by similarity and
// injected into a share of each group's rollouts; maintenance of the pool; the training-free semantic advantage.
export {
  NavigatingConfig,
  ExperienceOrigin,
  NewExperience,
  ExperienceStatus,
  Experience,
  ExtractedItem,
  ExtractorOutput,
  PoolEdit,
  SemanticAdvantageOutput,
  type ExperienceUsage,
} from "./schema.js";
export type { ExperiencePool, ScoredExperience, RolloutKey } from "./pool.js";
export { EXPERIENCE_HEADER, renderExperiences, isExperienceMessage, taskText } from "./template.js";
export { createExperienceHook, guidedShare, turnText, wordOverlap, type RetrievalOptions } from "./retrieval.js";
export { extractByRule, ruleSuccessContent, ruleWhenToUse, RULE_EXTRACTOR_ID } from "./rule-extractor.js";
export { mergeNearDuplicates, retireHarmful, usageLift, type MaintenanceReport } from "./maintenance.js";
export type { ExperienceExtractor, ExtractionResult } from "./extractor.js";
export { createLlmExtractor, buildExtractorMessages, EXTRACTOR_PROMPT_VERSION, type LlmExtractorOptions } from "./llm-extractor.js";
export { describeAttempt, describeTask } from "./llm-text.js";
export { semanticAdvantage, buildSemanticMessages, SEMANTIC_PROMPT_VERSION, type SemanticAdvantageResult } from "./semantic-advantage.js";
