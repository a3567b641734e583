// The home page: every run in the store with its status (a killed run shows as interrupted), method, seed, progress
// and the command that resumes it; tick several to compare their curves on one chart.
import { html, type Html } from "../html.js";
import type { RunStore } from "../../store/index.js";
import { summarizeRun, type RunSummary } from "../run-summary.js";

export function listRuns(store: RunStore, storePath: string): RunSummary[] {
  return store.listRuns().map((run) => summarizeRun(store, run.id, storePath));
}

export function runsPage(runs: RunSummary[], storePath: string): Html {
  return html`
    <h1>Runs <span class="muted">in ${storePath}</span></h1>
    ${runs.length === 0 ? html`<p class="muted">no runs yet: <code>evolver evolve --config RUN.yaml</code> writes here</p>` : ""}
    <form method="get" action="/compare">
    <table class="rows runs">
      <thead><tr><th>compare</th><th>run</th><th>status</th><th>env</th><th>method</th><th>seed</th><th>iterations</th><th>created</th><th>resume</th></tr></thead>
      <tbody>${runs.map(
        (r) => html`<tr>
          <td><input type="checkbox" name="runs" value="${r.id}"></td>
          <td><a href="/runs/${encodeURIComponent(r.id)}">${r.name}</a><br><code class="muted">${r.id}</code></td>
          <td><span class="status ${r.status}">${r.status}</span>${r.error ? html`<br><span class="error">${r.error}</span>` : ""}</td>
          <td>${r.env ?? "?"}</td><td>${r.method}</td><td>${r.seed ?? "?"}</td>
          <td>${r.completedIterations} of ${r.plannedIterations ?? "?"}</td><td>${r.createdAt.slice(0, 19).replace("T", " ")}</td>
          <td>${r.resumeCommand ? html`<code class="resume">${r.resumeCommand}</code>` : ""}</td></tr>`,
      )}</tbody>
    </table>
    ${runs.length > 1 ? html`<button>compare the ticked runs</button>` : ""}
    </form>`;
}
