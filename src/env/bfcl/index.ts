// BFCL v3 multi-turn: the environment, its Python-faithful executor, grader and vector replay.
export { BfclEnvironment, BfclEnvironmentOptions, BfclTaskSetup, bfclCallFailed, bfclTaskLines, bfclProfile, BFCL_SYSTEM_PROMPT, BFCL_FUNCTIONS_UPDATED } from "./environment.js";
export { BfclExecution, bindArguments, bfclCategory, isLongContextEntry, type BfclEntrySetup, type BfclExecutionOptions } from "./executor.js";
export { gradeBfclEntry, type BfclGrade, type BfclGradeInput, type BfclTurnGrade, type BfclStateDifference } from "./grader.js";
export {
  replayEntry,
  replayVectors,
  replayVectorFile,
  replayCalls,
  serializeVector,
  compareVector,
  firstDifference,
  type BfclVector,
  type BfclVectorTurn,
  type BfclVectorCall,
  type BfclVectorMismatch,
  type BfclReplayInput,
  type BfclReplayFileResult,
} from "./replay.js";
export {
  BFCL_CATEGORIES,
  loadBfclQuestions,
  loadBfclGroundTruth,
  loadBfclFuncDocs,
  loadBfclLongContext,
  bfclDocToTool,
  resolveBfclDataDir,
  type BfclCategoryName,
  type BfclQuestionEntry,
  type BfclFuncDoc,
} from "./data.js";
export { parseBfclCall, parseBfclCalls, formatBfclCall, type BfclCall } from "./python/call-parser.js";
export { parseBfclCallsAsJson, toolCallToBfclCall } from "./tool-calls.js";
export { PyRandom } from "./python/random.js";
export { pyRepr, pyStr, pyJsonDumps, formatPyFloat, stringifyResult } from "./python/repr.js";
