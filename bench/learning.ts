// Learning on CPU: GRPO (outcome only) versus ADCA-GRPO (per-step attribution) on the built-in key-chain
// environment, each run from the same tiny random-init model with the same config (examples/key-chain.yaml, its
// schedule as configured, so a figure is what `evolver evolve` shows), attribution.enabled being the only difference.
// Figures: held-out success over time, iterations and seconds to reach 0.5, 0.9 and 1.0 held-out success (the quick
// start, ADCA-GRPO, to 1.0: goal < 90 s of the evolve command's wall time, trainer start included), over several
// run seeds with their spread (full mode: the quick start as configured, each seed run to the end of its schedule, so
// that the held-out success at the end shows whether 1.0 holds), the ADCA/GRPO iteration ratio (seed 0), and the quick
// start's seconds per iteration with the trainer's batched sampling against its unbatched path, in this same process.
import { setMaxListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyModel } from "../src/llm/index.js";
import { loadConfig, runEvolve } from "../src/recipe/index.js";
import type { BenchResult } from "./result.js";

const CONFIG = join(import.meta.dirname, "..", "examples", "key-chain.yaml");
const THRESHOLDS = [0.5, 0.9, 1.0];
const GOAL_SECONDS = 600;
/** The quick start (examples/key-chain.yaml, ADCA-GRPO) to held-out success 1.0, in the evolve command's wall time. */
const QUICK_START_GOAL_SECONDS = 90;
/** Run seeds of the quick start's ADCA-GRPO runs in full mode: the time to 1.0 varies with the seed. */
const SEEDS = [0, 1, 2];

interface Curve {
  points: { iteration: number; success: number; score: number; seconds: number }[];
  seconds: number;
}

/** The quick start's config for one run of this bench: its own store, the bench's tiny model (written by run()). */
function benchConfig(dir: string, name: string, overrides: string[]) {
  return loadConfig(CONFIG, [
    `run.name=${name}`,
    `run.store=${join(dir, `${name}.db`)}`,
    `run.output_dir=${join(dir, "runs")}`,
    `policy.base_model=${join(dir, "tiny")}`,
    ...overrides,
  ]);
}

/** One run; `untilOne`: stopped at the first held-out 1.0 (the rest would measure nothing), else the whole schedule,
 * which shows whether 1.0 holds. */
async function learn(dir: string, name: string, overrides: string[], untilOne = true): Promise<Curve> {
  const config = benchConfig(dir, name, overrides);
  const points: Curve["points"] = [];
  const started = performance.now();
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // every rollout in flight listens to it
  try {
    await runEvolve({
      config,
      signal: controller.signal,
      log: (line) => {
        // the moment each evaluation is reported: the seconds include rollouts, updates and evaluations so far
        const match = /^eval (?:before training|after (\d+) iterations?): success ([\d.]+) score ([\d.]+)/.exec(line);
        if (!match) return;
        points.push({ iteration: Number(match[1] ?? 0), success: Number(match[2]), score: Number(match[3]), seconds: (performance.now() - started) / 1000 });
        if (untilOne && Number(match[2]) >= THRESHOLDS[THRESHOLDS.length - 1]) controller.abort();
      },
    });
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  if (points.length === 0) throw new Error(`${name}: no held-out evaluation was reported`);
  return { points, seconds: (performance.now() - started) / 1000 };
}

/** Seconds per iteration of the quick start (no evaluation), from the progress line of each iteration to the next. */
async function iterationSeconds(dir: string, name: string, overrides: string[], iterations: number): Promise<number> {
  const config = benchConfig(dir, name, [`schedule.iterations=${iterations + 1}`, "schedule.eval_every=0", ...overrides]);
  const stamps: number[] = [];
  await runEvolve({ config, log: (line) => (/^iteration \d+\//.test(line) ? stamps.push(performance.now()) : undefined) });
  // the first iteration also pays for the trainer's start: timed from its end on
  return (stamps[stamps.length - 1] - stamps[0]) / 1000 / (stamps.length - 1);
}

/** The quick start's seconds per iteration three ways, one after another in this process: today's unbatched sampling,
 * batched sampling, and batched sampling with the next iteration's rollouts overlapping the update (schedule.overlap). */
export async function iterationFigures(dir: string, iterations: number): Promise<{ unbatched: number; batched: number; overlap: number }> {
  const unbatched = await iterationSeconds(dir, "unbatched", ["trainer.sampling=unbatched"], iterations);
  const batched = await iterationSeconds(dir, "batched", ["trainer.sampling=batched"], iterations);
  const overlap = await iterationSeconds(dir, "overlap", ["trainer.sampling=batched", "schedule.overlap=true"], iterations);
  return { unbatched, batched, overlap };
}

function iterationRows({ unbatched, batched, overlap }: { unbatched: number; batched: number; overlap: number }): BenchResult[] {
  const baseline = { name: "unbatched sampling (trainer.sampling: unbatched)", value: unbatched };
  return [
    {
      name: "quick start (examples/key-chain.yaml): seconds per iteration, batched sampling",
      value: batched,
      unit: "s",
      baseline,
      ratio: unbatched / batched,
      goal: ">= 3x faster",
      ok: unbatched / batched >= 3,
    },
    {
      name: "quick start: seconds per iteration, batched sampling with schedule.overlap (rollouts one update stale)",
      value: overlap,
      unit: "s",
      baseline,
      ratio: unbatched / overlap,
      goal: ">= 3x faster",
      ok: unbatched / overlap >= 3,
    },
  ];
}

/** The quick start as configured (ADCA-GRPO, its own schedule, run to the end) with each run seed of SEEDS. */
async function quickStartSeeds(dir: string): Promise<Curve[]> {
  const curves: Curve[] = [];
  for (const seed of SEEDS) curves.push(await learn(dir, `quick-start-seed-${seed}`, [`run.seed=${seed}`], false));
  return curves;
}

/** Whether held-out 1.0, once reached, holds: the success at the end and the lowest after the first 1.0. */
function holding(seeds: number[], curves: Curve[]): BenchResult[] {
  const results: BenchResult[] = [];
  const finals: number[] = [];
  curves.forEach((curve, i) => {
    const last = curve.points.at(-1)!;
    finals.push(last.success);
    const hit = firstReaching(curve, 1.0);
    const after = hit ? Math.min(...curve.points.filter((p) => p.iteration >= hit.iteration).map((p) => p.success)) : Number.NaN;
    results.push({
      name: `quick start, seed ${seeds[i]}: held-out success at the end (after ${last.iteration} iterations)${hit ? `, lowest after the first 1.0 ${after.toFixed(3)}` : ""}`,
      value: last.success,
      unit: "success",
      goal: "1.0, held once reached",
      ok: hit !== undefined && after >= 1.0,
    });
  });
  const mean = finals.reduce((a, b) => a + b, 0) / finals.length;
  const sd = Math.sqrt(finals.reduce((a, b) => a + (b - mean) ** 2, 0) / finals.length);
  results.push({
    name: `quick start over ${curves.length} seeds: held-out success at the end, mean ± sd (population) ${mean.toFixed(3)} ± ${sd.toFixed(3)}, min ${Math.min(...finals).toFixed(3)}`,
    value: mean,
    unit: "success",
    goal: "1.0 on every seed",
    ok: finals.every((f) => f >= 1.0),
  });
  return results;
}

/** Each seed's time to held-out 1.0, then the median with the spread (min to max) over the seeds that reached it. */
function seedSpread(seeds: number[], curves: Curve[]): BenchResult[] {
  const results: BenchResult[] = [];
  const reached: { iteration: number; seconds: number }[] = [];
  curves.forEach((curve, i) => {
    const hit = firstReaching(curve, 1.0);
    if (hit) reached.push(hit);
    results.push({
      name: `quick start, seed ${seeds[i]}: seconds to 1.0 held-out success${hit ? ` (after ${hit.iteration} iterations)` : ""}`,
      value: hit ? hit.seconds : Number.NaN,
      unit: hit ? "s" : `s (not reached in ${curve.points.at(-1)?.iteration ?? 0} iterations)`,
      goal: `< ${QUICK_START_GOAL_SECONDS} s`,
      ok: hit !== undefined && hit.seconds < QUICK_START_GOAL_SECONDS,
    });
  });
  if (reached.length > 0) {
    const seconds = reached.map((r) => r.seconds).sort((a, b) => a - b);
    const iterations = reached.map((r) => r.iteration).sort((a, b) => a - b);
    const middle = (values: number[]) => (values.length % 2 ? values[values.length >> 1] : (values[values.length / 2 - 1] + values[values.length / 2]) / 2);
    results.push({
      name: `quick start over ${curves.length} seeds (${reached.length} reached 1.0): median seconds to 1.0, spread ${seconds[0].toFixed(0)}-${seconds.at(-1)!.toFixed(0)} s, iterations ${iterations[0]}-${iterations.at(-1)}`,
      value: middle(seconds),
      unit: "s",
      goal: `< ${QUICK_START_GOAL_SECONDS} s for every seed`,
      ok: reached.length === curves.length && seconds.at(-1)! < QUICK_START_GOAL_SECONDS,
    });
  }
  return results;
}

function firstReaching(curve: Curve, threshold: number) {
  return curve.points.find((p) => p.success >= threshold);
}

export async function run(options: { quick: boolean }): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "evolver-bench-learning-"));
  try {
    // every run starts from the same random model: written once
    writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 0 });
    // quick: the CI test's smaller chains (4 digits, 3 per chain), learnt in a few dozen iterations; full: GRPO on the
    // quick start's config, with room past its 100 iterations since it needs more
    const schedule = options.quick
      ? ["env.options.symbols=4", "rollout.tasks_per_iteration=8", "schedule.iterations=40", "schedule.eval_every=5", "schedule.eval_tasks=16"]
      : ["schedule.iterations=200"];
    // the quick start's iteration with continuous batching against the trainer's unbatched sampling, same run
    const results: BenchResult[] = iterationRows(await iterationFigures(dir, options.quick ? 3 : 5));
    // full: the quick start itself on every seed of SEEDS, to the end of its schedule; its seed 0 is the ADCA-GRPO
    // curve compared with GRPO below
    const seeds = options.quick ? [] : await quickStartSeeds(dir);
    const grpo = await learn(dir, "grpo", [...schedule, "attribution.enabled=false", "run.seed=0"]);
    const adca = options.quick ? await learn(dir, "adca", [...schedule, "attribution.enabled=true", "run.seed=0"]) : seeds[0];
    for (const [label, curve] of [["GRPO", grpo], ["ADCA-GRPO", adca]] as const) {
      for (const p of curve.points) {
        results.push({ name: `${label} held-out success after ${p.iteration} iterations (${p.seconds.toFixed(0)} s)`, value: p.success, unit: "success" });
      }
      const best = Math.max(...curve.points.map((p) => p.success));
      results.push({ name: `${label} best held-out success`, value: best, unit: "success", goal: ">= 0.9", ok: best >= 0.9 });
      for (const threshold of THRESHOLDS) {
        const reached = firstReaching(curve, threshold);
        results.push({
          name: `${label} iterations to ${threshold} held-out success`,
          value: reached ? reached.iteration : Number.NaN,
          unit: reached ? "iterations" : `iterations (not reached in ${curve.points.at(-1)?.iteration ?? 0})`,
        });
        results.push({
          name: `${label} seconds to ${threshold} held-out success`,
          value: reached ? reached.seconds : Number.NaN,
          unit: "s",
          ...(threshold === 0.9 ? { goal: `<= ${GOAL_SECONDS} s of CPU`, ok: reached !== undefined && reached.seconds <= GOAL_SECONDS } : {}),
          ...(threshold === 1.0 && label === "ADCA-GRPO" && !options.quick
            ? { goal: `< ${QUICK_START_GOAL_SECONDS} s (the quick start as configured)`, ok: reached !== undefined && reached.seconds < QUICK_START_GOAL_SECONDS }
            : {}),
        });
      }
    }
    if (!options.quick) results.push(...seedSpread(SEEDS, seeds), ...holding(SEEDS, seeds));
    for (const threshold of THRESHOLDS) {
      const g = firstReaching(grpo, threshold);
      const a = firstReaching(adca, threshold);
      if (g && a) {
        results.push({
          name: `ADCA/GRPO iterations to ${threshold} held-out success`,
          value: a.iteration,
          unit: "iterations",
          baseline: { name: "GRPO", value: g.iteration },
          ratio: a.iteration / g.iteration,
          goal: "< 1 (attribution learns in fewer iterations)",
          ok: a.iteration < g.iteration,
        });
      }
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
