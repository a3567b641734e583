export { EvolveConfig, loadConfig, parseConfig, applyOverrides } from "./config.js";
export { runEvolve, type EvolveOptions, type EvolveResult } from "./evolve.js";
export { stepRewardJudge } from "./attribution-stage.js";
export { sftStage, referenceSequence, SFT_ITERATION, SFT_DONE, type SftStageOptions } from "./sft-stage.js";
