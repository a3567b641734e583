// CLI start-up: `evolver --help` (the built CLI, dist/cli/main.js, as `npx evolver` runs it) against a bare
// `node -e 0`, run alternately so both meet the same machine load. Goal: --help within 150 ms of bare node.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./result.js";

const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

function wallMs(args: string[]): number {
  const start = performance.now();
  const run = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = performance.now() - start;
  if (run.status !== 0) throw new Error(`node ${args.join(" ")} exited ${run.status}: ${run.stderr}`);
  return ms;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run(options: { quick: boolean }): Promise<BenchResult[]> {
  if (!existsSync(main)) throw new Error(`${main} is missing: npm run build first (setup.sh does)`);
  const rounds = options.quick ? 10 : 30;
  const help: number[] = [];
  const bare: number[] = [];
  wallMs([main, "--help"]); // warm the file cache
  for (let r = 0; r < rounds; r++) {
    help.push(wallMs([main, "--help"]));
    bare.push(wallMs(["-e", "0"]));
  }
  const extra = median(help) - median(bare);
  return [
    {
      name: "evolver --help, over bare node (median)",
      value: extra,
      unit: "ms",
      baseline: { name: "node -e 0", value: median(bare) },
      ratio: median(help) / median(bare),
      goal: "<= 150 ms over bare node",
      ok: extra <= 150,
    },
    { name: "evolver --help (median wall)", value: median(help), unit: "ms" },
  ];
}
