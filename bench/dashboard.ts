// The dashboard on a run the size of the quick start's (100 iterations × 16 tasks × 8 rollouts = 12,800 train
// trajectories, plus 11 evaluations × 64 = 704): how long each page takes to serve, against a static asset from the
// same server (the HTTP round trip itself), and, where chromium is installed, how long the run's page takes to open
// in the browser with its charts drawn. Goal: the page opens in under a second.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunStore } from "../src/store/index.js";
import { startDashboard } from "../src/web/index.js";
import { writeSyntheticRun } from "../src/web/test-support/synthetic-run.js";
import type { BenchResult } from "./result.js";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function run(options: { quick: boolean }): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "evolver-bench-dashboard-"));
  const storePath = join(dir, "runs.db");
  const store = new RunStore(storePath);
  const runId = writeSyntheticRun(store, { iterations: 100, tasksPerIteration: 16, groupSize: 8, evalEvery: 10, evalTasks: 64 });
  const { trajectories } = store.counts(runId);
  const task = store.listTrajectories(runId, 50, "train")[0];
  store.close();
  const dashboard = await startDashboard({ storePath, port: 0 });
  const rounds = options.quick ? 5 : 15;
  const timeMs = async (path: string) => {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const start = performance.now();
      const response = await fetch(dashboard.url + path);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
      times.push(performance.now() - start);
    }
    return median(times);
  };
  try {
    const run = encodeURIComponent(runId);
    const baseline = { name: "a static asset (HTTP round trip)", value: await timeMs("/assets/dashboard.css") };
    const pages: [string, string][] = [
      ["runs list", "/"],
      ["run overview page + its curves (JSON)", `/runs/${run}`],
      ["curves JSON (12 key metrics)", `/api/curves?runs=${run}`],
      ["trajectories, first page of 50", `/runs/${run}/trajectories`],
      ["trajectories, last page", `/runs/${run}/trajectories?page=${Math.ceil(12_800 / 50)}`],
      ["trajectories of one task", `/runs/${run}/trajectories?task=${task.taskId}`],
      ["one trajectory (advantages recomputed)", `/runs/${run}/trajectory?id=${encodeURIComponent(task.id)}`],
      ["evaluations (avg@k, best@k per category)", `/runs/${run}/evaluations`],
    ];
    const results: BenchResult[] = [{ name: `store: ${trajectories} trajectories, 100 iterations`, value: trajectories, unit: "rows" }];
    for (const [name, path] of pages) {
      let value = await timeMs(path);
      if (path === `/runs/${run}`) value += await timeMs(`/api/curves?runs=${run}`);
      results.push({ name, value, unit: "ms", baseline, ratio: value / baseline.value, goal: "< 1000 ms", ok: value < 1000 });
    }
    results.push(...(await browserOpen(`${dashboard.url}/runs/${run}`, rounds)));
    return results;
  } finally {
    await dashboard.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Navigation start to every chart drawn, in chromium; nothing where chromium is not installed. */
async function browserOpen(url: string, rounds: number): Promise<BenchResult[]> {
  const chromium = [process.env.EVOLVER_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p && existsSync(p));
  if (!chromium) return [];
  const { default: puppeteer } = await import("puppeteer-core");
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    const page = await browser.newPage();
    const blank = async () => {
      const start = performance.now();
      await page.goto("about:blank");
      return performance.now() - start;
    };
    const times: number[] = [];
    const baselines: number[] = [];
    for (let r = 0; r < rounds; r++) {
      baselines.push(await blank());
      const start = performance.now();
      await page.goto(url, { waitUntil: "load" });
      await page.waitForSelector(".charts[data-updated]", { timeout: 60_000 });
      times.push(performance.now() - start);
    }
    const value = median(times);
    return [{ name: "run page opened in chromium, charts drawn", value, unit: "ms", baseline: { name: "about:blank", value: median(baselines) }, ratio: value / median(baselines), goal: "< 1000 ms", ok: value < 1000 }];
  } finally {
    await browser.close();
  }
}
