// The dashboard over the run store, and the run summaries `evolver runs show` prints.
export { summarizeRun, metricSeries, keyMetricNames, KEY_METRICS, type RunSummary, type MetricSeries } from "./run-summary.js";
