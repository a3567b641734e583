// The SFT warm start inside an evolve run (key-chain, tiny model, real local trainer): it runs before the first
// iteration, is recorded as iteration -2 with its own checkpoint, and a resumed run neither skips an unfinished
// warm start nor redoes a finished one.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeTinyModel } from "../llm/index.js";
import { RunStore } from "../store/index.js";
import { parseConfig } from "./config.js";
import { runEvolve } from "./evolve.js";
import { SFT_DONE, SFT_ITERATION } from "./sft-stage.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-evolve-sft-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("evolve: an SFT warm start interrupted is redone on resume, a finished one never again", async () => {
  writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 3 });
  const storePath = join(dir, "runs.db");
  const config = parseConfig({
    run: { name: "sft", store: storePath, output_dir: join(dir, "runs") },
    env: { type: "key-chain" },
    policy: { base_model: join(dir, "tiny") },
    sft: { enabled: true, epochs: 6, tasks: 64, batch_size: 8, learning_rate: 3e-3 },
    rollout: { group_size: 2, tasks_per_iteration: 2, max_steps: 3, max_tokens_per_step: 2, concurrency: 4 },
    schedule: { iterations: 1, eval_every: 1, eval_tasks: 12 },
  });

  // Stopped after the first epoch: nothing of the warm start is kept.
  const controller = new AbortController();
  const firstLines: string[] = [];
  const log = (line: string) => {
    firstLines.push(line);
    if (/^sft: epoch 1\//.test(line)) controller.abort();
  };
  await assert.rejects(runEvolve({ config, log, signal: controller.signal }), /stopped/);
  const runId = /run (\S+)/.exec(firstLines[0])![1];
  let store = new RunStore(storePath);
  assert.equal(store.iterationPhase(runId, SFT_ITERATION), "sft");
  assert.equal(store.listCheckpoints(runId).length, 0);
  store.close();

  const resumedLines: string[] = [];
  const result = await runEvolve({ resume: runId, storePath, log: (line) => resumedLines.push(line) });
  assert.ok(resumedLines.some((line) => /^sft: epoch 6\/6/.test(line)), resumedLines.join("\n"));
  // the log counts as its progress lines do: the evaluation after the first iteration (stored as 0) follows its line
  const order = resumedLines.filter((l) => /^(iteration \d|eval )/.test(l)).map((l) => l.replace(/:.*| {2}.*/, ""));
  assert.deepEqual(order, ["eval before training", "iteration 1/1", "eval after 1 iteration"]);
  store = new RunStore(storePath);
  assert.equal(store.iterationPhase(runId, SFT_ITERATION), SFT_DONE);
  assert.deepEqual(store.listCheckpoints(runId).map((c) => [c.iteration, c.kind]), [[SFT_ITERATION, "training"], [0, "training"]]);
  const sftMetrics = store.listMetrics(runId).filter((m) => m.iteration === SFT_ITERATION);
  assert.deepEqual(sftMetrics.filter((m) => /^sft\/loss_epoch_/.test(m.name)).map((m) => m.name).sort(), [1, 2, 3, 4, 5, 6].map((e) => `sft/loss_epoch_${e}`));
  store.close();
  console.log(`held-out evaluations: ${JSON.stringify(result.evaluations)}`);
  // Iteration -1's evaluation sees the warm-started policy.
  const warm = result.evaluations.find((e) => e.iteration === -1)!;
  assert.ok(warm.success >= 0.5, JSON.stringify(result.evaluations));

  const againLines: string[] = [];
  await runEvolve({ resume: runId, storePath, log: (line) => againLines.push(line) });
  assert.ok(!againLines.some((line) => line.startsWith("sft:")), againLines.join("\n"));
});

test("evolve: sft.replay_drills replays the warm start's drills in every update, and a resumed run rebuilds the same ones", async () => {
  const storePath = join(dir, "replay.db");
  const config = parseConfig({
    run: { name: "replay", store: storePath, output_dir: join(dir, "runs") },
    env: { type: "key-chain", options: { symbols: 4 } },
    policy: { base_model: join(dir, "tiny") },
    sft: { enabled: true, epochs: 1, tasks: 16, batch_size: 8, learning_rate: 3e-3, answers: "random", experience_drills: 12, replay_drills: 3 },
    optimizer: { mini_batches: 2 },
    loss: { entropy_coeff: 0.1 },
    rollout: { group_size: 2, tasks_per_iteration: 2, max_steps: 3, max_tokens_per_step: 1, concurrency: 4 },
    schedule: { iterations: 2, eval_every: 0 },
  });
  const controller = new AbortController();
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    if (/^iteration 1\/2/.test(line)) controller.abort();
  };
  await assert.rejects(runEvolve({ config, log, signal: controller.signal }), /stopped/);
  const runId = /run (\S+)/.exec(lines[0])![1];
  const resumed: string[] = [];
  await runEvolve({ resume: runId, storePath, log: (line) => resumed.push(line) });
  // rebuilt for the replay, not trained again
  assert.ok(resumed.includes("sft: 12 experience drills"), resumed.join("\n"));
  assert.ok(!resumed.some((line) => line.startsWith("sft: epoch")), resumed.join("\n"));
  const store = new RunStore(storePath);
  const metric = (iteration: number, name: string) => store.listMetrics(runId).find((m) => m.iteration === iteration && m.name === name)?.value;
  for (const iteration of [0, 1]) {
    const loss = metric(iteration, "train/replay_loss");
    assert.ok(loss !== undefined && Number.isFinite(loss) && loss > 0, `iteration ${iteration}: replay loss ${loss}`);
    // three drills in each of the two mini-batches, one trained token a turn (a letter), three turns a drill
    assert.ok(metric(iteration, "train/replay_tokens")! >= 2 * 3, `iteration ${iteration}: ${metric(iteration, "train/replay_tokens")} tokens`);
  }
  store.close();
});
