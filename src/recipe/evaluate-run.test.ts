// One evaluation for `evolver eval` and the loop: the same seed picks the same tasks and seeds the same samples, so
// `evolver eval --run RUN --iteration N` on the weights the run had after iteration N gives exactly what the run's
// own held-out evaluation recorded (sampled at temperature 1, so the per-sample seeds matter), and `evolver eval` of
// another backend with the same seed evaluates the same tasks.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJsonl, Trajectory } from "../agent/index.js";
import { commands } from "../cli/commands.js";
import { runCli } from "../cli/run-cli.js";
import { writeTinyModel } from "../llm/index.js";
import { RunStore } from "../store/index.js";
import { parseConfig } from "./config.js";
import { runEvolve } from "./evolve.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-eval-run-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A trajectory as a comparable record: what was asked, what the policy answered (with the logprobs of its tokens,
 * which tell the weights apart), and the outcome. */
const essence = (t: Trajectory) =>
  JSON.stringify([t.taskId, t.sampleIndex, t.groupKey, t.messages.map((m) => m.content), t.segments.map((s) => [s.tokens, s.logprobs]), t.reward, t.success, t.termination]);

/** The same samples: everything equal, logprobs to 1e-5. The trainer batches concurrent sample requests, and a logprob's
 * last float32 bits depend on what shared its forward step (the summation order), never its token. */
function assertSameSamples(actual: Trajectory[], expected: Trajectory[], what: string): void {
  const exact = (t: Trajectory) =>
    JSON.stringify([t.taskId, t.sampleIndex, t.groupKey, t.messages.map((m) => m.content), t.segments.map((s) => s.tokens), t.reward, t.success, t.termination]);
  const order = (ts: Trajectory[]) => [...ts].sort((a, b) => exact(a).localeCompare(exact(b)));
  const [a, b] = [order(actual), order(expected)];
  assert.deepEqual(a.map(exact), b.map(exact), what);
  a.forEach((t, i) => {
    const x = t.segments.flatMap((s) => s.logprobs ?? []);
    const y = b[i].segments.flatMap((s) => s.logprobs ?? []);
    assert.equal(x.length, y.length, what);
    x.forEach((value, j) => assert.ok(Math.abs(value - y[j]) <= 1e-5, `${what}: logprob ${value} vs ${y[j]}`));
  });
}

async function readAll(path: string): Promise<Trajectory[]> {
  const all: Trajectory[] = [];
  for await (const t of readJsonl(path, Trajectory)) all.push(t);
  return all;
}

test("evolver eval --run gives the run's own held-out numbers and samples; evolver eval with the same seed picks the same tasks", { timeout: 600_000 }, async (t) => {
  const model = writeTinyModel(join(dir, "model"), { seed: 4 });
  const envOptions = { length: 3, symbols: 4, seed: 5 };
  const config = parseConfig({
    run: { name: "same-numbers", seed: 3, store: join(dir, "runs.db"), output_dir: join(dir, "runs") },
    env: { type: "key-chain", options: envOptions },
    policy: { base_model: model.hfDir },
    trainer: { kind: "local", device: "cpu" },
    optimizer: { learning_rate: 0.01 },
    // the entropy bonus updates the weights even when every advantage of this small batch is 0
    loss: { entropy_coeff: 0.1 },
    rollout: { group_size: 2, tasks_per_iteration: 2, max_steps: 3, max_tokens_per_step: 1, concurrency: 4 },
    schedule: { iterations: 1, eval_every: 1, eval_tasks: 5, eval_k: 2, eval_temperature: 1 },
  });
  const result = await runEvolve({ config, log: () => undefined });
  const store = new RunStore(join(dir, "runs.db"));
  const recorded = new Map<number, { trajectories: Trajectory[]; metrics: Record<string, number> }>();
  try {
    for (const iteration of [-1, 0]) {
      const metrics = Object.fromEntries(store.listMetrics(result.runId).filter((m) => m.iteration === iteration && m.name.startsWith("eval/")).map((m) => [m.name, m.value]));
      recorded.set(iteration, { trajectories: store.listTrajectories(result.runId, iteration, "eval"), metrics });
    }
  } finally {
    store.close();
  }
  t.mock.method(console, "log", () => undefined);
  t.mock.method(process.stderr, "write", () => true);

  for (const iteration of [-1, 0]) {
    const out = join(dir, `run-${iteration}.json`);
    const trajectories = join(dir, `run-${iteration}.jsonl`);
    const code = await runCli(["eval", "--run", result.runId, `--iteration=${iteration}`, "--store", join(dir, "runs.db"), "--out", out, "--trajectories", trajectories], commands);
    assert.equal(code, 0);
    const report = JSON.parse(readFileSync(out, "utf8"));
    const { trajectories: stored, metrics } = recorded.get(iteration)!;
    assert.equal(stored.length, 10);
    assertSameSamples(await readAll(trajectories), stored, `the samples after iteration ${iteration}`);
    assert.equal(report.overall.avgAtK, metrics["eval/success"]);
    assert.equal(report.overall.meanScore, metrics["eval/score"]);
    assert.equal(report.overall.bestAtK, metrics["eval/best@2"]);
    assert.equal(report.overall.errored, metrics["eval/errored"]);
  }
  // the update changed the policy (its logprobs at least): the two evaluations are not one evaluation read twice
  assert.notDeepEqual(recorded.get(-1)!.trajectories.map(essence).sort(), recorded.get(0)!.trajectories.map(essence).sort());

  // the embedded GGUF of the same base weights, through the same engine and seed: the same tasks, the same groups
  const out = join(dir, "gguf.json");
  const code = await runCli([
    "eval", "--env", "key-chain", "--env-options", JSON.stringify(envOptions), "--model", model.ggufPath!, "--mode", "tokens",
    "--split", "test", "--tasks", "5", "--k", "2", "--seed", "3", "--max-steps", "3", "--max-tokens", "1", "--temperature", "1",
    "--out", out, "--trajectories", join(dir, "gguf.jsonl"),
  ], commands);
  assert.equal(code, 0);
  const embedded = await readAll(join(dir, "gguf.jsonl"));
  const groups = (ts: Trajectory[]) => [...new Set(ts.map((x) => `${x.taskId} ${x.groupKey}`))].sort();
  assert.deepEqual(groups(embedded), groups(recorded.get(-1)!.trajectories));
  assert.deepEqual(JSON.parse(readFileSync(out, "utf8")).tasks.map((x: { taskId: string }) => x.taskId).sort(), [...new Set(recorded.get(-1)!.trajectories.map((x) => x.taskId))].sort());
});
