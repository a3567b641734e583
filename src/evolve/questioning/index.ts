// Self-questioning: explore an environment out of curiosity, synthesize training tasks with reference solutions
// (hindsight or LLM), verify each by replay, drop near-duplicates, and mix the pool into training batches.
export { Candidate, CandidateStatus, Exploration, ProposedTasks, PROPOSED_TASKS_JSON_SCHEMA, RejectReason } from "./schema.js";
export { explore, curiosityPrompt, operationOutcomes, exploredSteps, type ExploreOptions, type ExploreResult } from "./explore.js";
export { hindsightSynthesizer, llmSynthesizer, checkCall, type Synthesizer, type SynthesisInput, type Proposal, type LlmSynthesizerOptions } from "./synthesize.js";
export { describeAction, writeQuery } from "./query.js";
export { replaySolution, REPLAY_TURN_END, type ReplayVerdict } from "./verify.js";
export { LexicalDeduper, EmbeddingDeduper, jaccard, taskText, tokens } from "./dedup.js";
export {
  synthesizeTasks,
  syntheticTaskId,
  heldOutSpecs,
  diversityReport,
  type SynthesizeOptions,
  type SynthesisReport,
  type SynthesisCounts,
  type DiversityReport,
} from "./pipeline.js";
export { questioningUnsupportedError } from "./errors.js";
export { loadProfile, profileToYaml } from "./profile.js";
export { draftProfile, draftProfileMessages, draftToProfile, environmentTools, DRAFT_PROFILE_JSON_SCHEMA, type DraftProfileOptions, type DraftedProfile } from "./draft-profile.js";
export { mixTasks, sampleWeighted, type MixOptions } from "./mix.js";
export { judgedEnvironment, specJudgeMessages, SpecJudgeOptions } from "./judged-env.js";
