// The run's tasks: seed tasks and, where self-questioning ran, synthetic ones with their provenance (the round, the
// synthesizer, the exploration and entity that produced them, the check that verifies them), and how often the
// policy solved each in training.
import { z } from "zod";
import { formatNumber, html } from "../html.js";
import { pager } from "./trajectories.js";
import { defineView } from "./view.js";
import { optionalEnum, optionalText, pageCount, pageNumber, PAGE_SIZE } from "./query.js";

const Query = z.strictObject({ split: optionalText(), source: optionalEnum(["seed", "synthetic"]), task: optionalText(), page: pageNumber });
type Query = z.infer<typeof Query>;

interface TaskRow {
  taskId: string;
  split: string;
  source: string;
  rollouts: number;
  successes: number;
  /** Synthetic tasks only, where the store has self-questioning's tables. */
  provenance?: { round: string; synthesizer: string; explorationId: string; entity: string | null; check: string };
}

export const tasksView = defineView({
  id: "tasks",
  title: "Tasks",
  tab: true,
  query: Query,
  available: () => true,
  data: ({ store, runId }, query: Query) => {
    const synthesis = store.hasTable("synthetic_tasks") && store.hasTable("explorations");
    const where = ["t.run_id = ?"];
    const params: unknown[] = [runId];
    if (query.split !== undefined) (where.push("t.split = ?"), params.push(query.split));
    if (query.source !== undefined) (where.push("t.source = ?"), params.push(query.source));
    if (query.task !== undefined) (where.push("t.task_id = ?"), params.push(query.task));
    const filter = where.join(" AND ");
    const total = (store.db.prepare(`SELECT count(*) AS n FROM tasks t WHERE ${filter}`).get(...params) as { n: number }).n;
    const rows = store.db
      .prepare(
        `SELECT t.task_id, t.split, t.source, s.rollouts, s.successes
           ${synthesis ? ", q.round, q.synthesizer, q.exploration_id, q.check_text, e.entity" : ""}
         FROM tasks t
         LEFT JOIN (SELECT task_id, count(*) AS rollouts, sum(success) AS successes FROM trajectories
                    WHERE run_id = ? AND purpose = 'train' GROUP BY task_id) s ON s.task_id = t.task_id
         ${synthesis ? "LEFT JOIN synthetic_tasks q ON q.pool = t.run_id AND q.id = t.task_id LEFT JOIN explorations e ON e.pool = q.pool AND e.id = q.exploration_id" : ""}
         WHERE ${filter} ORDER BY t.source DESC, t.rowid LIMIT ? OFFSET ?`,
      )
      .all(runId, ...params, PAGE_SIZE, (query.page - 1) * PAGE_SIZE) as Record<string, string | number | null>[];
    const statuses = synthesis
      ? (store.db.prepare("SELECT status, count(*) AS n FROM synthetic_tasks WHERE pool = ? GROUP BY status").all(runId) as { status: string; n: number }[])
      : [];
    return {
      total,
      page: query.page,
      pages: pageCount(total),
      candidates: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
      rows: rows.map(
        (r): TaskRow => ({
          taskId: String(r.task_id),
          split: String(r.split),
          source: String(r.source),
          rollouts: Number(r.rollouts ?? 0),
          successes: Number(r.successes ?? 0),
          ...(r.round != null
            ? { provenance: { round: String(r.round), synthesizer: String(r.synthesizer), explorationId: String(r.exploration_id), entity: r.entity === null ? null : String(r.entity), check: String(r.check_text) } }
            : {}),
        }),
      ),
    };
  },
  html: ({ runId }, data, query: Query) => html`
    <h1>Tasks</h1>
    ${Object.keys(data.candidates).length > 0
      ? html`<p>self-questioning candidates: ${Object.entries(data.candidates).map(([status, n]) => html`<span class="candidates ${status}">${n} ${status}</span> `)}</p>`
      : ""}
    <form class="filters" method="get">
      <label>split <input name="split" size="8" value="${query.split ?? ""}"></label>
      <label>source <select name="source"><option value="">any</option>${["seed", "synthetic"].map((s) => html`<option ${s === query.source ? "selected" : ""}>${s}</option>`)}</select></label>
      <label>task <input name="task" size="14" value="${query.task ?? ""}"></label>
      <button>filter</button>
    </form>
    <p class="count">${data.total} tasks · page ${data.page} of ${data.pages}</p>
    <table class="rows tasks">
      <thead><tr><th>task</th><th>split</th><th>source</th><th>train rollouts</th><th>solved</th><th>provenance</th></tr></thead>
      <tbody>${data.rows.map(
        (t) => html`<tr><td><a href="/runs/${encodeURIComponent(runId)}/trajectories?task=${encodeURIComponent(t.taskId)}">${t.taskId}</a></td><td>${t.split}</td><td>${t.source}</td>
          <td>${t.rollouts}</td><td class="solved">${t.rollouts === 0 ? "" : formatNumber(t.successes / t.rollouts)}</td>
          <td>${t.provenance ? html`round ${t.provenance.round}, ${t.provenance.synthesizer}, from exploration <code>${t.provenance.explorationId}</code>${t.provenance.entity ? ` of ${t.provenance.entity}` : ""}<br><span class="muted">check: ${t.provenance.check}</span>` : ""}</td></tr>`,
      )}</tbody>
    </table>
    ${pager(`/runs/${encodeURIComponent(runId)}/tasks`, query, data.page, data.pages)}`,
});
