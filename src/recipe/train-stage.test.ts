// Which sequences an update sends: with the entropy bonus on, a group that told nothing apart (every advantage 0)
// still adds its bonus, except a solved group when optimizer.skip_solved_groups says so.
import assert from "node:assert/strict";
import { test } from "node:test";
import { sketchTrajectory } from "../evolve/attributing/test-support/trajectories.js";
import type { TinkerDatum, TrainingClient } from "../train/index.js";
import { parseConfig } from "./config.js";
import { trainStage } from "./train-stage.js";

/** Three groups of two: both solved, both failed alike, one of each. */
function trajectories() {
  const step = [{ call: "open", answer: "ok" }];
  return [
    sketchTrajectory({ id: "solved-a", groupKey: "solved", reward: 1, steps: step }),
    sketchTrajectory({ id: "solved-b", groupKey: "solved", reward: 1, steps: step }),
    sketchTrajectory({ id: "failed-a", groupKey: "failed", reward: 0, steps: step }),
    sketchTrajectory({ id: "failed-b", groupKey: "failed", reward: 0, steps: step }),
    sketchTrajectory({ id: "mixed-a", groupKey: "mixed", reward: 1, steps: step }),
    sketchTrajectory({ id: "mixed-b", groupKey: "mixed", reward: 0, steps: step }),
  ];
}

async function sent(optimizer: Record<string, unknown>, loss: Record<string, unknown>) {
  const datums: TinkerDatum[] = [];
  const training = {
    forwardBackward: async (batch: TinkerDatum[]) => {
      datums.push(...batch);
      return { lossFnOutputs: [], metrics: {} };
    },
    optimStep: async () => ({ metrics: {} }),
  } as unknown as TrainingClient;
  const config = parseConfig({ env: { type: "key-chain" }, policy: { base_model: "m" }, optimizer, loss, attribution: { enabled: false } });
  const metrics = await trainStage({ config, training, trajectories: trajectories(), judgments: null, iteration: 0 });
  // each sequence's advantage, read off its trained positions
  const advantages = datums.map((d) => (d.loss_fn_inputs.advantages!.data as number[]).filter((_, i) => (d.loss_fn_inputs.weights!.data as number[])[i] !== 0)[0]);
  return { advantages: advantages.sort((a, b) => a - b), metrics };
}

test("train stage: zero-advantage sequences carry the entropy bonus; skip_solved_groups leaves out only solved groups'", async () => {
  const all = await sent({}, { entropy_coeff: 0.1 });
  assert.deepEqual(all.advantages, [-1, 0, 0, 0, 0, 1]);
  assert.equal(all.metrics["train/zero_advantage_share"], 4 / 6);

  const skipping = await sent({ skip_solved_groups: true }, { entropy_coeff: 0.1 });
  assert.deepEqual(skipping.advantages, [-1, 0, 0, 1], "the failed-alike group keeps its bonus, the solved one is left out");
  assert.equal(skipping.metrics["train/datums"], 4);

  // without an entropy or KL term a zero-advantage sequence adds nothing: none is sent either way
  assert.deepEqual((await sent({}, { entropy_coeff: 0 })).advantages, [-1, 1]);
  // with a KL term a solved group still pulls towards the reference: kept
  assert.equal((await sent({ skip_solved_groups: true }, { entropy_coeff: 0.1, kl_beta: 0.1 })).advantages.length, 6);
});

test("train stage: sft.replay_drills adds that many drills to every mini-batch, as cross-entropy weighing replay_coef in all, drawn from run.seed", async () => {
  const drill = (id: number): TinkerDatum => ({
    model_input: { chunks: [{ type: "encoded_text", tokens: [id, 1, 2] }] },
    loss_fn_inputs: { target_tokens: { data: [1, 2, 3], dtype: "int64", shape: [3] }, weights: { data: [0, 1, 1], dtype: "float32", shape: [3] } },
  });
  const drills = Array.from({ length: 20 }, (_, i) => drill(100 + i));
  const run = async (iteration: number) => {
    const calls: { lossFn: string; datums: TinkerDatum[] }[] = [];
    const training = {
      forwardBackward: async (batch: TinkerDatum[], lossFn: string) => {
        calls.push({ lossFn, datums: batch });
        return { lossFnOutputs: [], metrics: { "loss:sum": lossFn === "cross_entropy" ? 0.5 : 0 } };
      },
      optimStep: async () => {
        calls.push({ lossFn: "optim_step", datums: [] });
        return { metrics: {} };
      },
    } as unknown as TrainingClient;
    const config = parseConfig({
      env: { type: "key-chain" }, policy: { base_model: "m" }, optimizer: { mini_batches: 2 }, loss: { entropy_coeff: 0.1 }, attribution: { enabled: false },
      sft: { enabled: true, experience_drills: 20, replay_drills: 4, replay_coef: 0.5 },
    });
    const metrics = await trainStage({ config, training, trajectories: trajectories(), judgments: null, iteration, replay: drills });
    return { calls, metrics };
  };
  const { calls, metrics } = await run(3);
  assert.deepEqual(calls.map((c) => c.lossFn), ["evolver_ppo", "cross_entropy", "optim_step", "evolver_ppo", "cross_entropy", "optim_step"]);
  for (const replayed of calls.filter((c) => c.lossFn === "cross_entropy")) {
    assert.equal(replayed.datums.length, 4);
    assert.equal(new Set(replayed.datums.map((d) => d.model_input.chunks[0].tokens[0])).size, 4, "four different drills");
    const weights = replayed.datums.flatMap((d) => d.loss_fn_inputs.weights.data as number[]);
    assert.ok(Math.abs(weights.reduce((a, w) => a + w, 0) - 0.5) < 1e-12, "the drills' weights add up to replay_coef: a mean per trained token");
    assert.deepEqual(weights.slice(0, 3), [0, 0.5 / 8, 0.5 / 8], "the untrained position stays out");
  }
  // the loss reported per trained token, without the coefficient: 0.5 summed / 0.5 coef
  assert.equal(metrics["train/replay_loss"], 1);
  const draws = (c: typeof calls) => c.filter((x) => x.lossFn === "cross_entropy").map((x) => x.datums.map((d) => d.model_input.chunks[0].tokens[0]));
  assert.deepEqual(draws((await run(3)).calls), draws(calls), "the same iteration replays the same drills (a resumed run too)");
  assert.notDeepEqual(draws((await run(4)).calls), draws(calls), "another iteration, other drills");
  // the drills given are not changed by the weighting
  assert.deepEqual(drills[0].loss_fn_inputs.weights.data, [0, 1, 1]);
});
