// Held-out evaluations over the run: avg@k and best@k per category at each evaluated iteration, scored from the
// stored evaluation rollouts with the same function `evolver eval` uses (agent/eval-metrics.ts).
import { z } from "zod";
import { scoreTasks, type EvalScores, type TaskOutcomes } from "../../agent/index.js";
import { formatNumber, html } from "../html.js";
import type { Chart } from "../curves.js";
import { defineView } from "./view.js";

const Query = z.strictObject({});

interface EvaluationRow {
  iteration: number;
  k: number;
  overall: EvalScores;
  categories: Record<string, EvalScores>;
}

export const evaluationsView = defineView({
  id: "evaluations",
  title: "Evaluations",
  tab: true,
  query: Query,
  available: () => true,
  data: ({ store, runId }) => {
    const config = store.getRun(runId).config as { schedule?: { eval_k?: number } };
    const k = config.schedule?.eval_k ?? 1;
    const rows = store.db
      .prepare(
        `SELECT iteration, task_id, json_extract(body_json, '$.info.category') AS category, success, reward, termination,
           json_array_length(body_json, '$.steps') AS steps
         FROM trajectories WHERE run_id = ? AND purpose = 'eval' ORDER BY iteration, task_id, sample_index`,
      )
      .all(runId) as { iteration: number; task_id: string; category: string | null; success: number; reward: number; termination: string; steps: number }[];
    const byIteration = new Map<number, Map<string, TaskOutcomes>>();
    for (const row of rows) {
      const tasks = byIteration.get(row.iteration) ?? new Map<string, TaskOutcomes>();
      byIteration.set(row.iteration, tasks);
      const task = tasks.get(row.task_id) ?? { taskId: row.task_id, category: typeof row.category === "string" ? row.category : "all", samples: [] };
      tasks.set(row.task_id, task);
      const errored = row.termination === "error" || row.termination === "timeout" || (row.termination === "context_limit" && row.steps === 0);
      task.samples.push({ success: row.success === 1, score: row.reward, errored });
    }
    const evaluations: EvaluationRow[] = [...byIteration].map(([iteration, tasks]) => {
      const outcomes = [...tasks.values()];
      const categories: Record<string, EvalScores> = {};
      for (const category of [...new Set(outcomes.map((o) => o.category))].sort()) categories[category] = scoreTasks(outcomes.filter((o) => o.category === category), k);
      return { iteration, k, overall: scoreTasks(outcomes, k), categories };
    });
    const names = [...new Set(evaluations.flatMap((e) => Object.keys(e.categories)))].sort();
    const charts: Chart[] = ["overall", ...(names.length > 1 ? names : [])].map((category) => {
      const points = evaluations.flatMap((e) => {
        const scores = category === "overall" ? e.overall : e.categories[category];
        return scores ? [{ x: e.iteration, avg: scores.avgAtK, best: scores.bestAtK }] : [];
      });
      return {
        title: `${category}: avg@${k} and best@${k}`,
        lines: [
          { label: `avg@${k}`, x: points.map((p) => p.x), y: points.map((p) => p.avg) },
          { label: `best@${k}`, x: points.map((p) => p.x), y: points.map((p) => p.best) },
        ],
      };
    });
    return { k, categories: names, evaluations, charts };
  },
  html: ({ runId }, { k, categories, evaluations }) => html`
    <h1>Evaluations</h1>
    ${evaluations.length === 0 ? html`<p class="muted">no held-out evaluation stored yet</p>` : ""}
    <div class="charts" data-url="/api/runs/${encodeURIComponent(runId)}/evaluations"></div>
    <table class="rows evaluations">
      <thead>
        <tr><th rowspan="2">after iteration</th><th colspan="4">overall</th>${categories.length > 1 ? categories.map((c) => html`<th colspan="2">${c}</th>`) : ""}</tr>
        <tr><th>tasks</th><th>avg@${k}</th><th>best@${k}</th><th>score</th>${categories.length > 1 ? categories.map(() => html`<th>avg@${k}</th><th>best@${k}</th>`) : ""}</tr>
      </thead>
      <tbody>${evaluations.map(
        (e) => html`<tr><td>${e.iteration}</td><td>${e.overall.tasks}</td><td class="avg">${formatNumber(e.overall.avgAtK)}</td><td>${formatNumber(e.overall.bestAtK)}</td><td>${formatNumber(e.overall.meanScore)}</td>
          ${categories.length > 1 ? categories.map((c) => html`<td>${formatNumber(e.categories[c]?.avgAtK)}</td><td>${formatNumber(e.categories[c]?.bestAtK)}</td>`) : ""}</tr>`,
      )}</tbody>
    </table>`,
  scripts: ["/assets/uPlot.iife.min.js", "/assets/curves.js"],
});
