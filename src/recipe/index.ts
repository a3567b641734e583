export { EvolveConfig, loadConfig, parseConfig, applyOverrides } from "./config.js";
export { runEvolve, type EvolveOptions, type EvolveResult } from "./evolve.js";
export { prepareRun, type PreparedRun } from "./prepare.js";
export { evaluateRun, type EvaluateRunOptions } from "./evaluate-run.js";
export { stepRewardJudge } from "./attribution-stage.js";
export { sftStage, referenceSequence, SFT_ITERATION, SFT_DONE, type SftStageOptions } from "./sft-stage.js";
export { resolvePoolPath, listExperiences, exportExperiences, importExperiences, ExportedExperience, type ListedExperience } from "./experiences.js";
export { poolPath } from "./navigating-stage.js";
