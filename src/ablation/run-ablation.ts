// The ablation harness: every configuration (configurations.ts) × every seed, each run through the real evolve
// recipe (runEvolve) from the same base config and the same model, every run in one run store so that the dashboard
// and `evolver runs` compare them. Seeds go round by round (every configuration's seed 0, then seed 1, …), so a
// stopped ablation already holds comparable rows. The table, the plot and a JSON copy of the numbers are rewritten
// after every run.
//
// Runs are found again by name and config: an ablation started again with the same arguments reuses every finished
// run and resumes every interrupted one, so nothing done is done twice.
import { isDeepStrictEqual } from "node:util";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EvolverError, describeError } from "../core/errors.js";
import { loadConfig, prepareRun, runEvolve, type EvolveConfig } from "../recipe/index.js";
import { RunStore } from "../store/index.js";
import { configurationOverrides, missingMechanisms, selectConfigurations, type AblationConfiguration } from "./configurations.js";
import { ablationSvg } from "./plot.js";
import { ablationMarkdown } from "./report.js";
import { summarize, type ConfigurationOutcome, type ConfigurationSummary, type CurvePoint } from "./summary.js";

/** --quick: the mechanics in minutes (every configuration runs, evaluates and is stored), not the ordering. */
export const QUICK_OVERRIDES = [
  "schedule.iterations=4",
  "schedule.eval_every=2",
  "schedule.eval_tasks=8",
  "rollout.tasks_per_iteration=4",
  "rollout.group_size=4",
];

export interface AblationOptions {
  /** The base evolve config (YAML) every configuration starts from. */
  configPath: string;
  /** `key=value` overrides applied to every configuration before its own switches. */
  overrides?: string[];
  /** How many seeds: firstSeed … firstSeed+seeds-1 (run.seed). */
  seeds?: number;
  /** The first seed (default 0): a confirmatory run on seeds no pilot has used (docs/ablation.md, fifth pass). */
  firstSeed?: number;
  quick?: boolean;
  /** Where the table (ablation.md), plot (ablation.svg), numbers (ablation.json) and checkpoints go. */
  outDir: string;
  /** The one run store of every run; default outDir/runs.db. */
  storePath?: string;
  /** Held-out success for "iterations to threshold". */
  threshold?: number;
  /** Configuration names to run (default all). */
  only?: string[];
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface AblationResult {
  outcomes: ConfigurationOutcome[];
  summaries: ConfigurationSummary[];
  storePath: string;
  markdownPath: string;
  plotPath: string;
  jsonPath: string;
}

export async function runAblation(options: AblationOptions): Promise<AblationResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const seeds = options.seeds ?? 3;
  const threshold = options.threshold ?? 0.9;
  const firstSeed = options.firstSeed ?? 0;
  if (!Number.isInteger(seeds) || seeds < 1) throw new EvolverError("CLI_USAGE", `seeds must be a whole number of at least 1, got ${seeds}`);
  if (!Number.isInteger(firstSeed) || firstSeed < 0) throw new EvolverError("CLI_USAGE", `first-seed must be a whole number of at least 0, got ${firstSeed}`);
  const seedList = Array.from({ length: seeds }, (_, i) => firstSeed + i);
  if (!(threshold > 0 && threshold <= 1)) throw new EvolverError("CLI_USAGE", `threshold must be in (0, 1], got ${threshold}`);
  const selected = selectConfigurations(options.only);
  if ("unknown" in selected) {
    throw new EvolverError("CLI_USAGE", `unknown configuration(s) ${selected.unknown.join(", ")}; known: grpo, questioning, navigating, attributing, all`);
  }
  const outDir = resolve(options.outDir);
  const storePath = resolve(options.storePath ?? join(outDir, "runs.db"));
  mkdirSync(outDir, { recursive: true });
  const configFor = (configuration: AblationConfiguration, seed: number): EvolveConfig =>
    loadConfig(options.configPath, [
      ...(options.overrides ?? []),
      ...(options.quick ? QUICK_OVERRIDES : []),
      ...configurationOverrides(configuration),
      `run.seed=${seed}`,
      `run.name=ablation-${configuration.name}-seed${seed}`,
      `run.store=${storePath}`,
      `run.output_dir=${join(outDir, "runs")}`,
    ]);
  // The base config is read once up front, so a bad config or override is named before anything runs.
  const base = configFor(selected[0], firstSeed);
  const budget = base.schedule.iterations;
  // Each run keeps its experiences in its own folder; a shared pool would let one configuration's runs guide another's.
  const sharedPool = (base as { navigating?: { pool?: string } }).navigating?.pool;
  if (sharedPool !== undefined) {
    throw new EvolverError("CONFIG_INVALID", `navigating.pool: the ablation's runs must not share an experience pool (${sharedPool}); leave it unset so each run keeps its own`);
  }
  const outcomes: ConfigurationOutcome[] = selected.map((configuration) => {
    const missing = missingMechanisms(configuration);
    return missing.length > 0
      ? { configuration, status: "unavailable", reason: `${missing.join(" and ")} not in this build (no config section for it)`, runs: [] }
      : { configuration, status: "done", runs: [] };
  });
  const started = performance.now();
  const paths = { markdownPath: join(outDir, "ablation.md"), plotPath: join(outDir, "ablation.svg"), jsonPath: join(outDir, "ablation.json") };
  const write = (): ConfigurationSummary[] => {
    const summaries = outcomes.map((o) => summarize(o, budget, threshold));
    const title = `Ablation in miniature: ${base.env.type}`;
    const header = { title, configPath: options.configPath, storePath, budget, seeds: seedList, threshold, quick: options.quick ?? false, plot: "ablation.svg", seconds: (performance.now() - started) / 1000, runSeconds: outcomes.flatMap((o) => o.runs).reduce((a, r) => a + r.seconds, 0) };
    const runIds = new Map(outcomes.map((o) => [o.configuration.name, o.runs.map((r) => r.runId)]));
    writeFileSync(paths.markdownPath, ablationMarkdown(header, summaries, runIds));
    writeFileSync(paths.plotPath, ablationSvg(outcomes, { title, budget, threshold }));
    writeFileSync(paths.jsonPath, JSON.stringify({ ...header, summaries, outcomes }, null, 2));
    return summaries;
  };

  for (const seed of seedList) {
    for (const outcome of outcomes) {
      if (outcome.status !== "done") continue;
      if (options.signal?.aborted) throw new EvolverError("RUN_ABORTED", "stopped");
      const name = `ablation-${outcome.configuration.name}-seed${seed}`;
      try {
        const config = configFor(outcome.configuration, seed);
        const runId = await runOrReuse(config, storePath, name, options.signal, (line) => log(`[${name}] ${line}`));
        outcome.runs.push({ seed, runId, ...storedRun(storePath, runId) });
        const last = outcome.runs.at(-1)!.points.at(-1);
        log(`${name}: ${runId} held-out success ${last ? `${last.success.toFixed(3)} after ${last.iterations} iterations` : "not evaluated"}`);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        // The seeds that finished are kept; the configuration's later seeds would fail the same way.
        outcome.status = "failed";
        outcome.reason = describeError(error).split("\n")[0];
        log(`${name}: failed: ${describeError(error)}`);
      }
      write();
    }
  }
  const summaries = write();
  log(`ablation table: ${paths.markdownPath}; plot: ${paths.plotPath}; every run in ${storePath}`);
  return { outcomes, summaries, storePath, ...paths };
}

/** The run's id: a finished run of the same name and config is reused, an unfinished one resumed, else a new run. */
async function runOrReuse(config: EvolveConfig, storePath: string, name: string, signal: AbortSignal | undefined, log: (line: string) => void): Promise<string> {
  // Compared as stored: the config a run keeps is the prepared one (defaults resolved).
  const prepared = await prepareRun(config);
  await prepared.env.close?.();
  const store = new RunStore(storePath);
  let existing: { id: string; status: string } | undefined;
  try {
    const match = store.listRuns().find((r) => r.name === name && isDeepStrictEqual(r.config, JSON.parse(JSON.stringify(prepared.config))));
    if (match) existing = { id: match.id, status: match.status };
  } finally {
    store.close();
  }
  if (existing?.status === "done") {
    log(`reusing finished run ${existing.id}`);
    return existing.id;
  }
  const result = existing ? await runEvolve({ resume: existing.id, storePath, signal, log }) : await runEvolve({ config, signal, log });
  return result.runId;
}

/** The run's held-out curve, training success per iteration and wall-clock as stored (the same for a fresh, resumed
 * or reused run). */
function storedRun(storePath: string, runId: string): { points: CurvePoint[]; trainSuccess: number[]; seconds: number } {
  const store = new RunStore(storePath, { create: false });
  try {
    const run = store.getRun(runId);
    const seconds = (Date.parse(run.updatedAt) - Date.parse(run.createdAt)) / 1000;
    const byIteration = new Map<number, CurvePoint>();
    const training = new Map<number, number>();
    for (const m of store.listMetrics(runId)) {
      if (m.name === "train/success") training.set(m.iteration, m.value);
      if (m.name !== "eval/success" && m.name !== "eval/score") continue;
      const point = byIteration.get(m.iteration) ?? { iterations: m.iteration + 1, success: 0, score: 0 };
      if (m.name === "eval/success") point.success = m.value;
      else point.score = m.value;
      byIteration.set(m.iteration, point);
    }
    const trainSuccess = [...training.entries()].sort(([a], [b]) => a - b).map(([, value]) => value);
    return { points: [...byIteration.values()].sort((a, b) => a.iterations - b.iterations), trainSuccess, seconds };
  } finally {
    store.close();
  }
}
