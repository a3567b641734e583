// The dashboard over the run store, and the run summaries `evolver runs show` prints.
export { summarizeRun, metricSeries, keyMetricNames, KEY_METRICS, type RunSummary, type MetricSeries } from "./run-summary.js";
export { startDashboard, type Dashboard, type DashboardOptions } from "./server.js";
export { runCurves, type Chart, type ChartLine } from "./curves.js";
export { views, type DashboardView, type ViewContext } from "./views/index.js";
