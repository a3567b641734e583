import { existsSync } from "node:fs";
import { RunStore } from "../store/index.js";
import type { Command } from "./command.js";
import { parseOptions } from "./command.js";

const usage = "evolver runs [show RUN] [--store .evolver/runs.db] [--json]";

export const runsCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(
      argv,
      { store: { type: "string", default: ".evolver/runs.db" }, json: { type: "boolean", default: false } },
      usage,
      true,
    );
    // Opening a store creates it: a mistyped --store would leave an empty database behind and list nothing.
    if (!existsSync(values.store!)) {
      console.error(`evolver runs: no run store at ${values.store} (evolver evolve creates one; --store names another)`);
      return 1;
    }
    const store = new RunStore(values.store!);
    try {
      if (positionals[0] === "show" && positionals[1]) return show(store, positionals[1], values.json!);
      if (positionals.length > 0) {
        console.error(`usage: ${usage}`);
        return 2;
      }
      const runs = store.listRuns();
      // A run stored as running whose process is gone (killed, crashed) shows as interrupted.
      if (values.json) {
        console.log(JSON.stringify(runs.map((r) => ({ ...r, status: store.effectiveStatus(r.id), iterations: store.lastCompletedIteration(r.id) + 1 })), null, 2));
        return 0;
      }
      if (runs.length === 0) console.log(`no runs in ${values.store}`);
      for (const r of runs) {
        console.log(`${r.id}  ${store.effectiveStatus(r.id).padEnd(11)} ${String(store.lastCompletedIteration(r.id) + 1).padStart(4)} it  ${r.createdAt.slice(0, 19)}  ${r.name}`);
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

function show(store: RunStore, id: string, json: boolean): number {
  const run = { ...store.getRun(id), status: store.effectiveStatus(id) };
  const lease = store.lease(id);
  const metrics = store.listMetrics(id);
  const counts = store.counts(id);
  const checkpoints = store.listCheckpoints(id);
  if (json) {
    console.log(JSON.stringify({ run, lease, counts, checkpoints, metrics }, null, 2));
    return 0;
  }
  console.log(`run ${run.id} (${run.name}): ${run.status}${run.error ? ` — ${run.error}` : ""}`);
  if (lease && (run.status === "running" || run.status === "interrupted")) {
    console.log(`${run.status === "running" ? "run by" : "was run by"} pid ${lease.pid} on ${lease.host} since ${lease.acquiredAt}${run.status === "interrupted" ? " (gone; evolver evolve --resume goes on)" : ""}`);
  }
  console.log(`created ${run.createdAt}, updated ${run.updatedAt}`);
  console.log(`completed iterations: ${store.lastCompletedIteration(id) + 1}`);
  console.log(`tasks ${counts.tasks}, trajectories ${counts.trajectories}, step verdicts ${counts.verdicts}, checkpoints ${counts.checkpoints}`);
  const byIteration = new Map<number, Record<string, number>>();
  for (const m of metrics) byIteration.set(m.iteration, { ...(byIteration.get(m.iteration) ?? {}), [m.name]: m.value });
  const names = [...new Set(metrics.map((m) => m.name))].sort();
  if (names.length > 0) {
    console.log(`\n${"iter".padStart(4)}  ${names.map((n) => n.padStart(Math.max(10, n.length))).join("  ")}`);
    for (const [iteration, values] of [...byIteration].sort((a, b) => a[0] - b[0])) {
      const cells = names.map((n) => (values[n] === undefined ? "" : formatNumber(values[n])).padStart(Math.max(10, n.length)));
      console.log(`${String(iteration).padStart(4)}  ${cells.join("  ")}`);
    }
  }
  const last = checkpoints[checkpoints.length - 1];
  if (last) console.log(`\nlatest checkpoint: iteration ${last.iteration} ${last.kind} ${last.path}`);
  return 0;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}
