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
