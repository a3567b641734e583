// The run's experience pool (self-navigating): each experience, where it came from, and how often it helped — the
// success of rollouts it guided against comparable rollouts without it. The pool is its own file, the one the run's
// stored config names (navigating.pool, else experiences.db in the run's folder); it is opened read-only here. The tab
// appears for runs that had navigating on.
import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { z } from "zod";
import { usageLift } from "../../evolve/navigating/index.js";
import { EvolverError } from "../../core/errors.js";
import { poolPath, storedRunConfig } from "../../recipe/index.js";
import { formatNumber, html } from "../html.js";
import { pager } from "./trajectories.js";
import { defineView } from "./view.js";
import { optionalEnum, pageCount, pageNumber, PAGE_SIZE } from "./query.js";

const Query = z.strictObject({ status: optionalEnum(["active", "merged", "retired", "all"]), page: pageNumber });
type Query = z.infer<typeof Query>;

interface ExperienceRow {
  id: number;
  whenToUse: string;
  content: string;
  origin: string;
  extractor: string;
  status: string;
  note: string | null;
  iteration: number | null;
  sourceTasks: string[];
  guided: number;
  guidedSuccesses: number;
  unguided: number;
  unguidedSuccesses: number;
  /** Guided success rate minus unguided; null before both kinds of rollout were seen. */
  lift: number | null;
}

export const experiencesView = defineView({
  id: "experiences",
  title: "Experiences",
  tab: true,
  query: Query,
  available: (store, runId) => (store.getRun(runId).config as { navigating?: { enabled?: boolean } }).navigating?.enabled === true,
  data: ({ store, runId }, query: Query) => {
    const path = poolPath(storedRunConfig(store, runId), runId);
    if (!existsSync(path)) return { path, total: 0, page: 1, pages: 1, rows: [] as ExperienceRow[] };
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (error) {
      throw new EvolverError("STORE_OPEN", `cannot open the run's experience pool at ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const status = query.status ?? "active";
      const filter = status === "all" ? "1 = 1" : "e.status = ?";
      const params = status === "all" ? [] : [status];
      const total = (db.prepare(`SELECT count(*) AS n FROM experiences e WHERE ${filter}`).get(...params) as { n: number }).n;
      const rows = db
        .prepare(
          `SELECT e.*, coalesce(u.guided, 0) AS guided, coalesce(u.guidedSuccesses, 0) AS guidedSuccesses,
             coalesce(u.unguided, 0) AS unguided, coalesce(u.unguidedSuccesses, 0) AS unguidedSuccesses
           FROM experiences e LEFT JOIN (
             SELECT experience_id, SUM(guided) AS guided, SUM(guided * success) AS guidedSuccesses,
               SUM(1 - guided) AS unguided, SUM((1 - guided) * success) AS unguidedSuccesses
             FROM experience_outcomes GROUP BY experience_id) u ON u.experience_id = e.id
           WHERE ${filter} ORDER BY e.id LIMIT ? OFFSET ?`,
        )
        .all(...params, PAGE_SIZE, (query.page - 1) * PAGE_SIZE) as Record<string, string | number | null>[];
      return {
        path,
        total,
        page: query.page,
        pages: pageCount(total),
        rows: rows.map((r): ExperienceRow => {
          const usage = { experienceId: Number(r.id), guided: Number(r.guided), guidedSuccesses: Number(r.guidedSuccesses), unguided: Number(r.unguided), unguidedSuccesses: Number(r.unguidedSuccesses) };
          return {
            id: Number(r.id),
            whenToUse: String(r.when_to_use),
            content: String(r.content),
            origin: String(r.origin),
            extractor: String(r.extractor),
            status: String(r.status),
            note: r.note === null ? null : String(r.note),
            iteration: r.iteration === null ? null : Number(r.iteration),
            sourceTasks: JSON.parse(String(r.source_tasks_json)) as string[],
            ...usage,
            lift: usageLift(usage) ?? null,
          };
        }),
      };
    } catch (error) {
      if (EvolverError.isInstance(error)) throw error;
      throw new EvolverError("STORE_BROKEN", `the run's experience pool at ${path} cannot be read: ${(error as Error).message}`, { cause: error });
    } finally {
      db.close();
    }
  },
  html: ({ runId }, data, query: Query) => html`
    <h1>Experiences <span class="muted">in ${data.path}</span></h1>
    <form class="filters" method="get">
      <label>status <select name="status">${["active", "merged", "retired", "all"].map((s) => html`<option ${s === (query.status ?? "active") ? "selected" : ""}>${s}</option>`)}</select></label>
      <button>filter</button>
    </form>
    <p class="count">${data.total} experiences · page ${data.page} of ${data.pages}</p>
    <table class="rows experiences">
      <thead><tr><th>#</th><th>when to use</th><th>experience</th><th>origin</th><th>guided: solved</th><th>unguided: solved</th><th>lift</th><th>status</th></tr></thead>
      <tbody>${data.rows.map(
        (e) => html`<tr><td>${e.id}</td><td>${e.whenToUse}</td><td>${e.content}<br><span class="muted">from ${e.sourceTasks.join(", ")}${e.iteration === null ? "" : `, iteration ${e.iteration}`}</span></td>
          <td>${e.origin} (${e.extractor})</td><td>${e.guidedSuccesses} / ${e.guided}</td><td>${e.unguidedSuccesses} / ${e.unguided}</td>
          <td class="${e.lift === null ? "" : e.lift >= 0 ? "good" : "bad"}">${e.lift === null ? "" : formatNumber(e.lift)}</td><td>${e.status}${e.note ? html`<br><span class="muted">${e.note}</span>` : ""}</td></tr>`,
      )}</tbody>
    </table>
    ${pager(`/runs/${encodeURIComponent(runId)}/experiences`, query, data.page, data.pages)}`,
});
