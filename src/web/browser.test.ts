// The dashboard in a real browser (Debian's chromium, driven by puppeteer-core) over a store made by a short real
// evolve run of the tiny model on key-chain: the curves grow while the run writes, and every view shows the run's
// real numbers, checked against the store. Screenshots go to a temporary folder (named in the test's output), or to
// $EVOLVER_DASHBOARD_SCREENSHOTS. Skips only where no chromium is installed (scripts/setup.sh installs it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Page } from "puppeteer-core";
import { writeTinyModel } from "../llm/index.js";
import { resolvePython } from "../train/index.js";
import { RunStore } from "../store/index.js";
import { repoRoot } from "../cli/test-support/spawn-cli.js";
import { startDashboard } from "./server.js";
import { formatNumber } from "./html.js";

const chromium = [process.env.EVOLVER_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => p && existsSync(p));
/** What the page functions touch of an element (the project compiles without the DOM library). Page functions run
 * in the browser: they use casts, never a function of this module. */
interface Node {
  dataset: Record<string, string | undefined>;
  innerText: string;
  className: string;
  textContent: string | null;
  children: Node[];
  getAttribute(name: string): string | null;
  querySelector(selector: string): Node | null;
  querySelectorAll(selector: string): Node[];
}
/** Polls in the page until the chart titled `title` has a number of points that `test` accepts ("> 3", "=== 8"). */
const chartPoints = (page: Page, title: string, test: string, timeout: number) =>
  page.waitForFunction(`Number(document.querySelector('.chart[data-title="${title}"]')?.dataset.points) ${test}`, { timeout, polling: 1000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("the dashboard in chromium: a real run's curves grow while it goes; every view shows its real numbers", { timeout: 1_500_000 }, async (t) => {
  if (!chromium) return t.skip("chromium is not installed (scripts/setup.sh installs Debian's chromium; EVOLVER_CHROMIUM names another)");
  const dir = mkdtempSync(join(tmpdir(), "evolver-dashboard-browser-"));
  const shots = process.env.EVOLVER_DASHBOARD_SCREENSHOTS ?? join(dir, "screenshots");
  mkdirSync(shots, { recursive: true });
  const storePath = join(dir, "runs.db");
  const model = join(dir, "model");
  writeTinyModel(model);
  const configPath = join(dir, "run.yaml");
  // enough iterations that the run is still going when the page first loads (8 were over by then on a quiet machine)
  const iterations = 40;
  writeFileSync(
    configPath,
    [
      `run: { name: browser-test, seed: 5, store: ${JSON.stringify(storePath)}, output_dir: ${JSON.stringify(join(dir, "out"))} }`,
      "env: { type: key-chain, options: { length: 3, symbols: 8, repeat: 6 } }",
      `policy: { base_model: ${JSON.stringify(model)} }`,
      "trainer: { kind: local, device: cpu }",
      "optimizer: { learning_rate: 0.003 }",
      "rollout: { group_size: 4, tasks_per_iteration: 4, max_steps: 3, max_tokens_per_step: 1 }",
      `schedule: { iterations: ${iterations}, eval_every: 4, eval_tasks: 8 }`,
      "",
    ].join("\n"),
  );
  const env = { ...process.env, EVOLVER_PYTHON: resolvePython() };
  const cli = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/main.ts"), "evolve", "--config", configPath], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  cli.stdout.on("data", (c) => (output += c));
  cli.stderr.on("data", (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => cli.once("exit", resolve));
  const dashboard = await startDashboard({ storePath, port: 0 });
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  try {
    // The run's id, once it has finished its first iteration.
    let runId = "";
    for (let waited = 0; !runId; waited += 500) {
      if (cli.exitCode !== null) throw new Error(`the run ended before its first iteration:\n${output}`);
      if (waited > 900_000) throw new Error(`no iteration after 15 minutes:\n${output}`);
      if (existsSync(storePath)) {
        try {
          const store = new RunStore(storePath, { readonly: true });
          const run = store.listRuns()[0];
          if (run && store.lastCompletedIteration(run.id) >= 0) runId = run.id;
          store.close();
        } catch {
          // not a complete store yet
        }
      }
      await sleep(500);
    }

    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    await page.goto(`${dashboard.url}/runs/${runId}`, { waitUntil: "load" });
    const points = (p: Page) => p.$eval('.chart[data-title="train/reward"]', (el) => Number((el as unknown as Node).dataset.points));
    await page.waitForSelector('.chart[data-title="train/reward"][data-points]', { timeout: 120_000 });
    const before = await points(page);
    assert.ok(before >= 1 && before < iterations, `train/reward has ${before} points while the run goes`);
    // No reload: the page fetches the curves again by itself.
    await chartPoints(page, "train/reward", `> ${before}`, 900_000);
    const grown = await points(page);
    t.diagnostic(`train/reward curve: ${before} → ${grown} points while the run was going`);
    await page.screenshot({ path: join(shots, "overview-running.png") });

    assert.equal(await exited, 0, output);
    const store = new RunStore(storePath, { readonly: true });
    try {
      const metrics = store.listMetrics(runId);
      const series = (name: string) => metrics.filter((m) => m.name === name);
      // The finished run's numbers, once the page has fetched them: the last evaluation is stored after the last
      // iteration's training metrics, so one fetch can hold every training point and not yet the last eval point.
      assert.equal(series("train/reward").length, iterations);
      for (const name of ["train/reward", "train/success", "eval/success", "train/seconds"]) {
        await chartPoints(page, name, `=== ${series(name).length}`, 60_000);
        const chart = await page.$eval(`.chart[data-title="${name}"]`, (el) => ({ points: (el as unknown as Node).dataset.points, last: (el as unknown as Node).dataset.last }));
        const stored = series(name);
        assert.equal(Number(chart.points), stored.length, name);
        assert.deepEqual(JSON.parse(chart.last!), [stored[stored.length - 1].value], name);
      }
      await page.screenshot({ path: join(shots, "overview.png"), fullPage: false });

      // Runs: status, seed, iterations.
      await page.goto(dashboard.url, { waitUntil: "load" });
      const row = await page.$eval(`tr:has(a[href="/runs/${runId}"])`, (el) => (el as unknown as Node).innerText);
      assert.match(row, new RegExp(String.raw`browser-test[\s\S]*done[\s\S]*key-chain[\s\S]*ADCA-GRPO \(rule judge, alpha 0\.5\)\s+5\s+${iterations} of ${iterations}`));
      await page.screenshot({ path: join(shots, "runs.png") });

      // Trajectories: each row's reward and step verdicts as stored.
      await page.goto(`${dashboard.url}/runs/${runId}/trajectories?iteration=${iterations - 1}`, { waitUntil: "load" });
      const rows = await page.$$eval("table.trajectories tbody tr", (trs) =>
        (trs as unknown as Node[]).map((tr) => ({
          href: tr.querySelector("a")!.getAttribute("href")!,
          reward: tr.children[3].innerText,
          chips: [...tr.querySelectorAll(".chip")].map((c) => c.className.replace("chip ", "")),
        })),
      );
      const stored = store.listTrajectories(runId, iterations - 1, "train");
      assert.equal(rows.length, stored.length);
      for (const shown of rows) {
        const id = new URL(shown.href, dashboard.url).searchParams.get("id")!;
        const trajectory = stored.find((s) => s.id === id)!;
        assert.equal(shown.reward, formatNumber(trajectory.reward));
        const labels = (store.getVerdicts(id)?.verdicts as { verdicts: { label: string }[] }).verdicts.map((v) => (v.label === "GOOD" ? "good" : "bad"));
        assert.deepEqual(shown.chips, labels);
      }
      await page.screenshot({ path: join(shots, "trajectories.png") });

      // One trajectory: a section per step, coloured by its verdict, with the judge's reason.
      const mixed = rows.find((r) => new Set(r.chips).size > 1) ?? rows[0];
      await page.goto(new URL(mixed.href, dashboard.url).href, { waitUntil: "load" });
      const steps = await page.$$eval("section.step", (sections) => (sections as unknown as Node[]).map((s) => ({ cls: s.className, reason: s.querySelector(".reason")?.textContent, tokens: s.querySelectorAll(".token.trained").length })));
      assert.deepEqual(steps.map((s) => s.cls.replace("step ", "")), mixed.chips);
      for (const step of steps) {
        assert.ok(step.reason, "the judge's reason");
        assert.equal(step.tokens, 1, "one sampled, trained token per key-chain step");
      }
      await page.screenshot({ path: join(shots, "trajectory.png"), fullPage: true });

      // Tasks: how often training solved each, as the stored rollouts say.
      const solved = store.db.prepare("SELECT task_id, count(*) AS n, sum(success) AS c FROM trajectories WHERE run_id = ? AND purpose = 'train' GROUP BY task_id").all(runId) as { task_id: string; n: number; c: number }[];
      const sample = solved[0];
      await page.goto(`${dashboard.url}/runs/${runId}/tasks?task=${encodeURIComponent(sample.task_id)}`, { waitUntil: "load" });
      const taskRow = await page.$$eval("table.tasks tbody tr td", (tds) => (tds as unknown as Node[]).map((td) => td.innerText));
      assert.deepEqual(taskRow.slice(0, 5), [sample.task_id, "train", "seed", String(sample.n), formatNumber(sample.c / sample.n)]);

      // Evaluations: avg@k at every evaluated iteration, as the run stored it.
      await page.goto(`${dashboard.url}/runs/${runId}/evaluations`, { waitUntil: "load" });
      await page.waitForSelector(".chart[data-points]", { timeout: 60_000 });
      const evaluated = await page.$$eval("table.evaluations tbody tr", (trs) => (trs as unknown as Node[]).map((tr) => [tr.children[0].innerText, tr.querySelector(".avg")!.innerText]));
      assert.deepEqual(evaluated, series("eval/success").map((m) => [String(m.iteration), formatNumber(m.value)]));
      await page.screenshot({ path: join(shots, "evaluations.png") });
    } finally {
      store.close();
    }
    t.diagnostic(`screenshots in ${shots}`);
  } finally {
    if (cli.exitCode === null) cli.kill("SIGKILL");
    await browser.close();
    await dashboard.close();
    if (!process.env.EVOLVER_DASHBOARD_SCREENSHOTS) rmSync(dir, { recursive: true, force: true });
  }
});
