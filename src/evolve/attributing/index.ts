// Self-attributing: a step judge (LLM or rule), ADCA-GRPO advantages, and the reference policy-loss maths.
export {
  StepLabel,
  StepVerdict,
  StepVerdicts,
  TrajectoryJudgment,
  JudgeOutput,
  AlphaScheduleConfig,
  JudgeConfig,
  AttributionConfig,
  PolicyLossConfig,
  type LossAggregation,
} from "./schema.js";
export {
  groupZScores,
  grpoAdvantages,
  suffixSums,
  adcaGroupAdvantages,
  broadcastToStepTokens,
  alphaAt,
  type NormalizationOptions,
  type StepLabelValue,
  type AdcaOptions,
  type AdcaGroupInput,
  type AdcaGroupResult,
  type AlphaSchedule,
} from "./advantages.js";
export {
  computeTrajectoryAdvantages,
  broadcastToSegments,
  shouldAttribute,
  type TrajectoryAdvantages,
  type AdvantageStats,
} from "./trajectory-advantages.js";
export {
  policyLoss,
  tokenPolicyLoss,
  lowVarKl,
  aggregationWeights,
  type PolicyLossInput,
  type PolicyLossResult,
  type TokenPolicyLoss,
} from "./loss.js";
export {
  createLlmJudge,
  createRuleJudge,
  MemoryVerdictCache,
  verdictCacheKey,
  parseJudgeAnswer,
  summarizeJudgments,
  type VerdictCache,
  type StepJudge,
  type JudgeItem,
  type LlmJudgeOptions,
  type RuleJudgeFunction,
  type JudgmentSummary,
} from "./judge.js";
export { buildJudgeMessages, JUDGE_PROMPT_VERSION, type JudgeOutcome } from "./judge-prompt.js";
export { exportAudit, renderAuditMarkdown, type AuditReport, type AuditStep, type AuditOptions } from "./audit.js";
export { judgeVerdictCountError, advantageShapeError } from "./errors.js";
