// Charts as data: the server decides what goes on which chart; the page's script (assets/curves.js) only draws
// them with uPlot and fetches them again every few seconds, so curves grow while a run writes to the store.
import type { RunStore } from "../store/index.js";
import { keyMetricNames, metricSeries } from "./run-summary.js";

export interface ChartLine {
  label: string;
  x: number[];
  y: number[];
}

export interface Chart {
  title: string;
  lines: ChartLine[];
}

/**
 * One chart per metric, one line per run: the key metrics any of the runs has (reward, success, held-out success and
 * best@k, score, loss, KL, entropy, clip fractions, tokens/s, seconds), then `extra` metrics asked for by name.
 */
export function runCurves(store: RunStore, runIds: readonly string[], extra: readonly string[] = []): Chart[] {
  const runs = runIds.map((id) => ({ id, name: store.getRun(id).name, series: metricSeries(store, id) }));
  const available = [...new Set(runs.flatMap((r) => r.series.map((s) => s.name)))];
  const names = [...keyMetricNames(available), ...extra.filter((n) => available.includes(n))];
  // Runs often share a name (a config run twice): the label adds the id's tail then.
  const label = (run: { id: string; name: string }) => (runs.filter((r) => r.name === run.name).length > 1 ? `${run.name} (${run.id.slice(-8)})` : run.name);
  return [...new Set(names)].map((name) => ({
    title: name,
    lines: runs.flatMap((run) => {
      const series = run.series.find((s) => s.name === name);
      return series ? [{ label: label(run), x: series.iterations, y: series.values }] : [];
    }),
  }));
}
