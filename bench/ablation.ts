// The ablation in miniature (docs/ablation.md): GRPO, +questioning, +navigating, +attributing and all three on the
// data-scarce key-chain of examples/ablation.yaml, three seeds each, from one tiny random model; every configuration's
// held-out success at the end as a ratio against GRPO's, measured in this same process. The table and the plot stay
// in .evolver/bench-ablation/ (--quick: .evolver/bench-ablation-quick/) until the next bench, every run in its runs.db.
import { setMaxListeners } from "node:events";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkOrdering, runAblation } from "../src/ablation/index.js";
import { writeTinyModel } from "../src/llm/index.js";
import type { BenchResult } from "./result.js";

const CONFIG = join(import.meta.dirname, "..", "examples", "ablation.yaml");

export async function run(options: { quick: boolean }): Promise<BenchResult[]> {
  const out = resolve(".evolver", options.quick ? "bench-ablation-quick" : "bench-ablation");
  const model = join(out, "tiny");
  // measured afresh each time (an ablation run again would reuse its finished runs); the last one's table stays
  rmSync(out, { recursive: true, force: true });
  writeTinyModel(model, { formats: ["hf"], seed: 0 });
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const started = performance.now();
  const result = await runAblation({
    configPath: CONFIG,
    overrides: [`policy.base_model=${model}`],
    seeds: 3,
    quick: options.quick,
    outDir: out,
    signal: controller.signal,
    log: (line) => {
      if (!line.startsWith("[")) console.log(`  ${line}`);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const grpo = result.summaries.find((s) => s.configuration.name === "grpo");
  const results: BenchResult[] = [];
  for (const s of result.summaries) {
    if (s.status === "unavailable") {
      results.push({ name: `${s.configuration.label}: not available (${s.reason})`, value: Number.NaN, unit: "" });
      continue;
    }
    const sd = Number.isFinite(s.finalSuccess.sd) ? `, sd ${s.finalSuccess.sd.toFixed(3)}` : "";
    const base = grpo && grpo !== s && grpo.finalSuccess.values.length > 0 ? grpo.finalSuccess.mean : undefined;
    results.push({
      name: `${s.configuration.label} held-out success at the end (mean of ${s.finalSuccess.values.length}${sd})`,
      value: s.finalSuccess.mean,
      unit: "success",
      ...(base !== undefined ? { baseline: { name: "GRPO", value: base }, ratio: base > 0 ? s.finalSuccess.mean / base : Number.NaN } : {}),
    });
    const t = s.toThreshold;
    results.push({ name: `${s.configuration.label} iterations to 0.9 held-out success (${t.reached}/${t.of} reached)`, value: t.mean, unit: "iterations" });
  }
  for (const [metric, what] of [["finalSuccess", "success"], ["finalScore", "score"]] as const) {
    const ordering = checkOrdering(result.summaries, metric);
    results.push({
      name: `the paper's ordering on held-out ${what} (GRPO < each single < all three, all clear of GRPO by one sd)`,
      value: ordering.complete ? Number(Boolean(ordering.singlesAboveGrpo && ordering.allAboveSingles && ordering.allClearOfGrpo)) : Number.NaN,
      unit: ordering.complete ? "(1 = came out)" : "(not every configuration ran)",
    });
  }
  results.push({ name: `ablation wall-clock (table: ${result.markdownPath})`, value: seconds / 60, unit: "min", goal: options.quick ? "< 10 min" : "< 60 min on 2 cores", ok: seconds / 60 < (options.quick ? 10 : 60) });
  return results;
}
