// The agent: tool-call formats, context strategies, rollouts (one episode → an exact Trajectory), the rollout
// manager (groups, concurrency, failures), progress, JSONL, and evaluation.
export * from "./trajectory.js";
export { TokenRecorder } from "./token-recorder.js";
export {
  createToolFormat,
  nativeFormatFor,
  checkToolCalls,
  toolFormatNames,
  type ToolFormatName,
  type ToolCallFormat,
  type ToolCallError,
  type ParsedToolCalls,
  type BfclCallParser,
  type ToolFormatOptions,
} from "./tool-formats.js";
export { splitThinking, stripThinking } from "./thinking.js";
export {
  createContextStrategy,
  contextStrategyNames,
  linearContext,
  linearNoThinkingContext,
  slidingWindowContext,
  selfContextClipContext,
  selfContextClipInstructions,
  toolRetrievalContext,
  searchToolsSchema,
  namesSeen,
  lexicalTerms,
  LEXICAL_WEIGHT,
  SEARCH_TOOLS_NAME,
  DEFAULT_TOOL_RETRIEVAL_K,
  ToolIndex,
  ToolEmbeddings,
  toolText,
  type ToolHit,
  type ToolRetrievalOptions,
  type ToolSelection,
  type ContextStrategy,
  type ContextInput,
} from "./context/index.js";
export { policyModelId, toWireMessages, type PolicyModel, type SamplingOptions } from "./model-drivers.js";
export { runRollout, checkContextFits, type RolloutOptions, type ExperienceHook } from "./rollout.js";
export { createPolicyModel, ModelSpecOptions, type LoadedPolicyModel } from "./model-spec.js";
export { runRollouts, groupKeyFor, type RolloutTask, type RolloutBatchOptions, type RolloutBatchResult, type RolloutGroup } from "./rollout-manager.js";
export type { RolloutEvent, RolloutStats, RolloutCrash } from "./rollout-events.js";
export { createProgressReporter, formatProgress, type ProgressReporter, type ProgressOptions } from "./progress.js";
export { JsonlWriter, readJsonl } from "./jsonl.js";
export { evaluateAgent, sampleTasks, formatEvalTable, everyRolloutErrored, type EvaluateOptions, type EvalReport, type EvalTaskResult } from "./evaluate.js";
export { passAtK, scoreTasks, gradedTurns, type EvalScores, type SampleOutcome, type TaskOutcomes } from "./eval-metrics.js";
