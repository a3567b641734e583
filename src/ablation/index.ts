export { CONFIGURATIONS, MECHANISMS, mechanismAvailable, missingMechanisms, configurationOverrides, type AblationConfiguration, type Mechanism } from "./configurations.js";
export { runAblation, QUICK_OVERRIDES, type AblationOptions, type AblationResult } from "./run-ablation.js";
export { summarize, spread, iterationsToThreshold, checkOrdering, type ConfigurationOutcome, type ConfigurationSummary, type CurvePoint, type SeedRun, type OrderingCheck } from "./summary.js";
export { ablationMarkdown } from "./report.js";
export { ablationSvg } from "./plot.js";
