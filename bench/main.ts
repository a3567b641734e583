// `npm run bench [-- --json] [-- --only NAME] [-- --quick]`: every figure the issues name, each measured against a
// baseline in this same process run, so the ratios mean the same on any machine.
import type { BenchModule, BenchResult } from "./result.js";

const suites: Record<string, () => Promise<BenchModule>> = {
  "rollout-orchestration": () => import("./rollout-orchestration.js"),
  "env-service": () => import("./env-service.js"),
  "env-replay": () => import("./env-replay.js"),
  "cli-startup": () => import("./cli-startup.js"),
  trainer: () => import("./trainer.js"),
  "llm-embedded": () => import("./llm-embedded.js"),
  learning: () => import("./learning.js"),
  navigating: () => import("./navigating.js"),
  tools: () => import("./tools.js"),
  tokenizer: () => import("./tokenizer.js"),
  ablation: () => import("./ablation.js"),
  questioning: () => import("./questioning.js"),
  dashboard: () => import("./dashboard.js"),
};

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const onlyIndex = args.indexOf("--only");
const only = onlyIndex >= 0 ? args[onlyIndex + 1]?.split(",") : undefined;

const all: Record<string, BenchResult[] | { error: string }> = {};
for (const [name, load] of Object.entries(suites)) {
  if (only && !only.includes(name)) continue;
  if (!json) console.log(`\n== ${name}`);
  try {
    const results = await (await load()).run({ quick });
    all[name] = results;
    if (!json) {
      for (const r of results) {
        const ratio = r.ratio !== undefined ? `  ratio ${r.ratio.toFixed(3)}${r.baseline ? ` vs ${r.baseline.name}` : ""}` : "";
        const goal = r.goal ? `  goal ${r.goal}${r.ok === undefined ? "" : r.ok ? " (met)" : " (NOT met)"}` : "";
        console.log(`  ${r.name.padEnd(48)} ${formatValue(r.value)} ${r.unit}${ratio}${goal}`);
      }
    }
  } catch (error) {
    all[name] = { error: (error as Error).message };
    if (!json) console.log(`  failed: ${(error as Error).message}`);
  }
}
if (json) console.log(JSON.stringify(all, null, 2));

function formatValue(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(4);
}
