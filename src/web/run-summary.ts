// What a person wants to know about a run at a glance, read from the store: its status as readers should show it
// (a killed run is interrupted), what it was configured to do, how far it got, the command that resumes it, and each
// metric as a series over iterations. `evolver runs show` prints it; the dashboard's runs view shows it.
import type { EffectiveRunStatus, LeaseRecord, RunStore } from "../store/index.js";

/** The metrics shown by default, in this order, where the run has them; `best@k` stands for the run's eval k. */
export const KEY_METRICS = [
  "train/reward",
  "train/success",
  "eval/success",
  "eval/best@k",
  "eval/score",
  "trainer/loss:sum",
  "trainer/kl:sum",
  "trainer/entropy:sum",
  "trainer/clip_fraction:mean",
  "trainer/dual_clip_fraction:mean",
  "train/tokens_per_second",
  "train/seconds",
  "trainer/trainer_seconds:sum",
  "time/rollout",
  "time/attribution",
  "time/train",
  "time/eval",
] as const;

export interface MetricSeries {
  name: string;
  iterations: number[];
  values: number[];
}

export interface RunSummary {
  id: string;
  name: string;
  status: EffectiveRunStatus;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  lease: LeaseRecord | undefined;
  completedIterations: number;
  plannedIterations: number | undefined;
  seed: number | undefined;
  env: string | undefined;
  /** GRPO, or ADCA-GRPO with its judge, as configured. */
  method: string;
  config: unknown;
  counts: ReturnType<RunStore["counts"]>;
  resumeCommand: string | undefined;
}

type ConfigView = {
  run?: { seed?: number };
  env?: { type?: string };
  schedule?: { iterations?: number; eval_k?: number };
  attribution?: { enabled?: boolean; judge?: string; alpha?: number };
};

export function summarizeRun(store: RunStore, runId: string, storePath: string): RunSummary {
  const run = store.getRun(runId);
  const status = store.effectiveStatus(runId);
  // The stored config is whatever the run was given; read leniently, as a newer or older Evolver may have written it.
  const config = (run.config ?? {}) as ConfigView;
  const attribution = config.attribution;
  const method = attribution?.enabled === false ? "GRPO" : `ADCA-GRPO (${attribution?.judge ?? "rule"} judge, alpha ${attribution?.alpha ?? "?"})`;
  const completedIterations = store.lastCompletedIteration(runId) + 1;
  const resumable = status !== "done" && status !== "running";
  return {
    id: run.id,
    name: run.name,
    status,
    error: run.error,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    lease: store.lease(runId),
    completedIterations,
    plannedIterations: config.schedule?.iterations,
    seed: config.run?.seed,
    env: config.env?.type,
    method,
    config: run.config,
    counts: store.counts(runId),
    resumeCommand: resumable ? `evolver evolve --resume ${run.id} --store ${storePath}` : undefined,
  };
}

/** Every metric of the run as a series over iterations (iteration -1 is the evaluation before any update). */
export function metricSeries(store: RunStore, runId: string): MetricSeries[] {
  const byName = new Map<string, MetricSeries>();
  for (const m of store.listMetrics(runId)) {
    let series = byName.get(m.name);
    if (!series) byName.set(m.name, (series = { name: m.name, iterations: [], values: [] }));
    series.iterations.push(m.iteration);
    series.values.push(m.value);
  }
  return [...byName.values()];
}

/** The key metrics the run has, in KEY_METRICS order (eval/best@k stands for whichever best@ the run recorded). */
export function keyMetricNames(available: readonly string[]): string[] {
  const names: string[] = [];
  for (const key of KEY_METRICS) {
    if (key === "eval/best@k") names.push(...available.filter((n) => n.startsWith("eval/best@")).sort());
    else if (available.includes(key)) names.push(key);
  }
  return names;
}
