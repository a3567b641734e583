// A run at a glance: status (a killed run is interrupted), what it was configured to do, the command that resumes
// it, counts, and its curves, which grow while the run goes.
import { z } from "zod";
import { html, queryString } from "../html.js";
import { runCurves, type Chart } from "../curves.js";
import { summarizeRun, type RunSummary } from "../run-summary.js";
import { defineView } from "./view.js";

const Query = z.strictObject({ metrics: z.string().max(2000).optional() });

export const overviewView = defineView({
  id: "overview",
  title: "Overview",
  tab: true,
  query: Query,
  available: () => true,
  data: ({ store, runId, storePath }, query): { summary: RunSummary; charts: Chart[]; metrics: string[] } => ({
    summary: summarizeRun(store, runId, storePath),
    charts: runCurves(store, [runId], query.metrics?.split(",") ?? []),
    metrics: [...new Set(store.listMetrics(runId).map((m) => m.name))].sort(),
  }),
  html: ({ runId }, { summary, metrics }, query) => html`
    <h1>${summary.name} <span class="status ${summary.status}">${summary.status}</span></h1>
    <table class="facts">
      <tr><th>run</th><td><code>${summary.id}</code></td></tr>
      <tr><th>environment</th><td>${summary.env ?? "?"}</td></tr>
      <tr><th>method</th><td>${summary.method}</td></tr>
      <tr><th>seed</th><td>${summary.seed ?? "?"}</td></tr>
      <tr><th>iterations</th><td><span id="iterations">${summary.completedIterations}</span> of ${summary.plannedIterations ?? "?"}</td></tr>
      <tr><th>stored</th><td>${summary.counts.trajectories} trajectories, ${summary.counts.verdicts} step verdicts, ${summary.counts.checkpoints} checkpoints, ${summary.counts.tasks} tasks</td></tr>
      <tr><th>created</th><td>${summary.createdAt} (updated ${summary.updatedAt})</td></tr>
      ${summary.error ? html`<tr><th>error</th><td class="error">${summary.error}</td></tr>` : ""}
      ${summary.resumeCommand ? html`<tr><th>resume</th><td><code class="resume">${summary.resumeCommand}</code></td></tr>` : ""}
    </table>
    <details><summary>config</summary><pre>${JSON.stringify(summary.config, null, 2)}</pre></details>
    <h2>Curves</h2>
    <form class="filters" method="get">
      <label>more metrics <input name="metrics" value="${query.metrics ?? ""}" list="metric-names" placeholder="a,b"></label>
      <datalist id="metric-names">${metrics.map((m) => html`<option value="${m}">`)}</datalist>
      <button>show</button>
    </form>
    <div class="charts" data-url="/api/curves${queryString({ runs: runId, metrics: query.metrics })}"></div>`,
  scripts: ["/assets/uPlot.iife.min.js", "/assets/curves.js"],
});
