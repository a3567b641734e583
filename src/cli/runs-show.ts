import { EvolverError } from "../core/errors.js";
import { keyMetricNames, metricSeries, summarizeRun, type MetricSeries } from "../web/index.js";
import type { Command } from "./command.js";
import { parseOptions } from "./command.js";
import { openStoreForReading } from "./runs.js";
import { sparkline } from "./sparkline.js";

const usage = "evolver runs show RUN [--store .evolver/runs.db] [--metrics a,b] [--table] [--json]";

export const runsShowCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      { store: { type: "string", default: ".evolver/runs.db" }, metrics: { type: "string" }, table: { type: "boolean", default: false }, json: { type: "boolean", default: false } },
      usage,
      true,
    );
    if (positionals.length !== 1) throw new EvolverError("CLI_USAGE", `name one run\nusage: ${usage}`);
    const store = openStoreForReading(values.store!);
    try {
      const id = positionals[0];
      const summary = summarizeRun(store, id, values.store!);
      const series = metricSeries(store, id);
      if (values.json) {
        console.log(JSON.stringify({ run: summary, checkpoints: store.listCheckpoints(id), metrics: store.listMetrics(id) }, null, 2));
        return 0;
      }
      const available = series.map((s) => s.name);
      const chosen = values.metrics ? values.metrics.split(",").map((n) => n.trim()).filter(Boolean) : values.table ? [...available].sort() : keyMetricNames(available);
      const unknown = chosen.filter((n) => !available.includes(n));
      if (unknown.length > 0) throw new EvolverError("CLI_USAGE", `run ${id} has no metric ${unknown.join(", ")}; it has: ${[...available].sort().join(", ")}`);
      console.log(`run ${summary.id} (${summary.name}): ${summary.status}${summary.error ? ` — ${summary.error}` : ""}`);
      const lease = summary.lease;
      if (lease && (summary.status === "running" || summary.status === "interrupted")) {
        console.log(`${summary.status === "running" ? "run by" : "was run by"} pid ${lease.pid} on ${lease.host} since ${lease.acquiredAt}${summary.status === "interrupted" ? " (gone; evolver evolve --resume goes on)" : ""}`);
      }
      console.log(`${summary.env ?? "?"}, ${summary.method}, seed ${summary.seed ?? "?"}; created ${summary.createdAt}, updated ${summary.updatedAt}`);
      console.log(`completed iterations: ${summary.completedIterations}${summary.plannedIterations === undefined ? "" : ` of ${summary.plannedIterations}`}`);
      const { counts } = summary;
      console.log(`tasks ${counts.tasks}, trajectories ${counts.trajectories}, step verdicts ${counts.verdicts}, checkpoints ${counts.checkpoints}`);
      if (summary.resumeCommand) console.log(`resume: ${summary.resumeCommand}`);
      const byName = new Map(series.map((s) => [s.name, s]));
      const picked = chosen.map((n) => byName.get(n)!);
      if (values.table) printTable(picked);
      else printSummary(picked);
      const checkpoints = store.listCheckpoints(id);
      const last = checkpoints[checkpoints.length - 1];
      if (last) console.log(`\nlatest checkpoint: iteration ${last.iteration} ${last.kind} ${last.path}`);
      return 0;
    } finally {
      store.close();
    }
  },
};

/** One line per metric: its last value, range, and a sparkline over the iterations. */
function printSummary(series: MetricSeries[]): void {
  if (series.length === 0) return;
  const width = Math.max(6, ...series.map((s) => s.name.length));
  console.log(`\n${"metric".padEnd(width)}  ${"last".padStart(10)}  ${"min".padStart(10)}  ${"max".padStart(10)}  iterations`);
  for (const s of series) {
    const from = s.iterations[0];
    const to = s.iterations[s.iterations.length - 1];
    const cells = [s.values[s.values.length - 1], Math.min(...s.values), Math.max(...s.values)].map((v) => formatNumber(v).padStart(10));
    console.log(`${s.name.padEnd(width)}  ${cells.join("  ")}  ${sparkline(s.values)} ${from}..${to}`);
  }
}

/** Every iteration as a row, one column per metric. */
function printTable(series: MetricSeries[]): void {
  if (series.length === 0) return;
  const iterations = [...new Set(series.flatMap((s) => s.iterations))].sort((a, b) => a - b);
  const lookups = series.map((s) => new Map(s.iterations.map((it, i) => [it, s.values[i]])));
  console.log(`\n${"iter".padStart(4)}  ${series.map((s) => s.name.padStart(Math.max(10, s.name.length))).join("  ")}`);
  for (const iteration of iterations) {
    const cells = series.map((s, k) => {
      const value = lookups[k].get(iteration);
      return (value === undefined ? "" : formatNumber(value)).padStart(Math.max(10, s.name.length));
    });
    console.log(`${String(iteration).padStart(4)}  ${cells.join("  ")}`);
  }
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}
