// The run's rollouts, newest iteration first, each step a chip coloured by its GOOD/BAD verdict; filtered by task,
// iteration and outcome, a page at a time (a quick-start run stores 13,000).
import { z } from "zod";
import { formatNumber, html, queryString, type Html } from "../html.js";
import { defineView } from "./view.js";
import { optionalEnum, optionalInt, optionalText, pageCount, pageNumber, PAGE_SIZE } from "./query.js";

const Query = z.strictObject({
  purpose: z.preprocess((v) => (v === "" ? undefined : v), z.enum(["train", "eval"]).default("train")),
  iteration: optionalInt(-2),
  task: optionalText(),
  outcome: optionalEnum(["success", "failure", "errored"]),
  page: pageNumber,
});
type Query = z.infer<typeof Query>;

export interface TrajectoryRow {
  id: string;
  iteration: number;
  taskId: string;
  sampleIndex: number;
  reward: number;
  success: boolean;
  termination: string;
  steps: number;
  /** Per step: GOOD, BAD, or null (not judged); empty when the trajectory has no verdicts. */
  labels: ("GOOD" | "BAD" | null)[];
  judge: string | null;
}

// An errored rollout (rolloutError in agent/trajectory.ts): an error or timeout, or no step because the first prompt
// did not fit.
const ERRORED = "(t.termination IN ('error', 'timeout') OR (t.termination = 'context_limit' AND json_array_length(t.body_json, '$.steps') = 0))";

export const trajectoriesView = defineView({
  id: "trajectories",
  title: "Trajectories",
  tab: true,
  query: Query,
  available: () => true,
  data: ({ store, runId }, query: Query) => {
    const where = ["t.run_id = ?", "t.purpose = ?"];
    const params: unknown[] = [runId, query.purpose];
    if (query.iteration !== undefined) (where.push("t.iteration = ?"), params.push(query.iteration));
    if (query.task !== undefined) (where.push("t.task_id = ?"), params.push(query.task));
    if (query.outcome === "success") where.push("t.success = 1");
    if (query.outcome === "failure") where.push(`t.success = 0 AND NOT ${ERRORED}`);
    if (query.outcome === "errored") where.push(ERRORED);
    const filter = where.join(" AND ");
    const total = (store.db.prepare(`SELECT count(*) AS n FROM trajectories t WHERE ${filter}`).get(...params) as { n: number }).n;
    const rows = store.db
      .prepare(
        `SELECT t.id, t.iteration, t.task_id, t.sample_index, t.reward, t.success, t.termination,
           json_array_length(t.body_json, '$.steps') AS steps, v.judge, v.verdicts_json
         FROM trajectories t LEFT JOIN verdicts v ON v.trajectory_id = t.id
         WHERE ${filter} ORDER BY t.iteration DESC, t.group_key, t.sample_index LIMIT ? OFFSET ?`,
      )
      .all(...params, PAGE_SIZE, (query.page - 1) * PAGE_SIZE) as Record<string, string | number | null>[];
    return {
      total,
      page: query.page,
      pages: pageCount(total),
      rows: rows.map((row): TrajectoryRow => {
        const steps = Number(row.steps);
        const verdicts = row.verdicts_json ? ((JSON.parse(String(row.verdicts_json)).verdicts ?? []) as { step: number; label: "GOOD" | "BAD" }[]) : null;
        const byStep = new Map((verdicts ?? []).map((v) => [v.step, v.label]));
        return {
          id: String(row.id),
          iteration: Number(row.iteration),
          taskId: String(row.task_id),
          sampleIndex: Number(row.sample_index),
          reward: Number(row.reward),
          success: row.success === 1,
          termination: String(row.termination),
          steps,
          labels: verdicts ? Array.from({ length: steps }, (_, step) => byStep.get(step) ?? null) : [],
          judge: row.judge === null ? null : String(row.judge),
        };
      }),
    };
  },
  html: ({ runId }, data, query: Query) => html`
    <h1>Trajectories</h1>
    <form class="filters" method="get">
      <label>purpose <select name="purpose">${["train", "eval"].map((p) => html`<option ${p === query.purpose ? "selected" : ""}>${p}</option>`)}</select></label>
      <label>iteration <input name="iteration" size="5" value="${query.iteration ?? ""}"></label>
      <label>task <input name="task" size="12" value="${query.task ?? ""}"></label>
      <label>outcome <select name="outcome"><option value="">any</option>${["success", "failure", "errored"].map((o) => html`<option ${o === query.outcome ? "selected" : ""}>${o}</option>`)}</select></label>
      <button>filter</button>
    </form>
    <p class="count">${data.total} trajectories · page ${data.page} of ${data.pages}</p>
    <table class="rows trajectories">
      <thead><tr><th>iteration</th><th>task</th><th>sample</th><th>reward</th><th>outcome</th><th>steps (verdicts)</th><th>judge</th></tr></thead>
      <tbody>${data.rows.map(
        (row) => html`<tr>
          <td>${row.iteration}</td><td>${row.taskId}</td><td><a href="/runs/${encodeURIComponent(runId)}/trajectory${queryString({ id: row.id })}">#${row.sampleIndex}</a></td>
          <td>${formatNumber(row.reward)}</td><td class="${row.success ? "good" : "bad"}">${row.success ? "success" : row.termination === "done" ? "failure" : row.termination}</td>
          <td>${stepChips(row)}</td><td>${row.judge ?? ""}</td></tr>`,
      )}</tbody>
    </table>
    ${pager(`/runs/${encodeURIComponent(runId)}/trajectories`, query, data.page, data.pages)}`,
});

function stepChips(row: TrajectoryRow): Html {
  if (row.labels.length === 0) return html`<span class="muted">${row.steps} steps, not judged</span>`;
  return html`${row.labels.map((label, step) => html`<span class="chip ${label === "GOOD" ? "good" : label === "BAD" ? "bad" : "none"}" title="step ${step}: ${label ?? "no verdict"}">${step}</span>`)}`;
}

export function pager(path: string, query: Record<string, unknown>, page: number, pages: number): Html {
  const link = (p: number, text: string) => html`<a href="${path}${queryString({ ...(query as Record<string, string>), page: p })}">${text}</a>`;
  return html`<nav class="pager">${page > 1 ? link(1, "« first") : ""} ${page > 1 ? link(page - 1, "‹ previous") : ""} page ${page} of ${pages} ${page < pages ? link(page + 1, "next ›") : ""} ${page < pages ? link(pages, "last »") : ""}</nav>`;
}
