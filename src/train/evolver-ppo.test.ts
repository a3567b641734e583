// evolver_ppo on a trainer without it: the linearised route (forward, the reference maths' gradient, cross_entropy
// weighted by its negative) gives the same parameter update as the trainer's own evolver_ppo, on the local trainer.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { PolicyLossConfig } from "../evolve/attributing/index.js";
import { readSafetensors } from "../llm/index.js";
import { buildDatum } from "./datums.js";
import { evolverPpoForwardBackward, evolverPpoProblems, evolverPpoRoute, trainerFeatures } from "./evolver-ppo.js";
import type { TrainingClient } from "./tinker-client.js";
import { useLocalTrainer } from "./test-support/local-trainer.js";

const localTrainer = useLocalTrainer({ seed: 4, name: "evolver-ppo" });

/** Off-policy datums (sampler logprobs shifted from the learner's) so that clipping, dual-clip and the boost all bind. */
function datums() {
  return [0, 1, 2, 3].map((d) => {
    const tokens = Array.from({ length: 10 + 3 * d }, (_, i) => 30 + ((d * 17 + i * 11) % 60));
    return buildDatum({
      tokens,
      lossMask: tokens.map((_, i) => (i < 3 ? 0 : 1)),
      advantages: tokens.map((_, i) => (d % 2 === 0 ? 1 : -1) * (0.5 + 0.1 * i)),
      samplerLogprobs: tokens.map((_, i) => -5.5 + 0.4 * Math.sin(3 * d + i)),
      experienceGuided: d === 0,
    });
  });
}

/** Adam reduced to a scaled gradient step: beta1 = beta2 = 0, so m = g and v = g², and a large eps makes the update
 * lr·g/(|g| + eps) ≈ g: parameter updates then compare gradients, which Adam's usual sign-like first step would hide. */
const linearStep = { learning_rate: 1, beta1: 0, beta2: 0, eps: 1, weight_decay: 0, grad_clip_norm: 0 };

async function updatedWeights(training: TrainingClient, name: string): Promise<Map<string, Float32Array>> {
  const path = await training.saveWeights(name);
  const [, modelId, kind, checkpoint] = /^tinker:\/\/([^/]+)\/([^/]+)\/(.+)$/.exec(path)!;
  const tensors = readSafetensors(join(localTrainer().trainer.checkpointDir, modelId, kind, checkpoint, "weights.safetensors"));
  return new Map([...tensors].map(([key, tensor]) => [key, tensor.values]));
}

test("both routes give the same parameter update (1e-5), full fine-tuning and LoRA", { timeout: 600_000 }, async () => {
  const loss = PolicyLossConfig.parse({ clip_high_boost: 0.4, aggregation: "seq-mean-token-mean" });
  for (const loraRank of [0, 4]) {
    const base = await localTrainer().client.createTrainingClient({ baseModel: "tiny", loraRank, seed: 7 });
    const native = await localTrainer().client.createTrainingClient({ baseModel: "tiny", loraRank, seed: 7 });
    const linearised = await localTrainer().client.createTrainingClient({ baseModel: "tiny", loraRank, seed: 7 });
    const a = await evolverPpoForwardBackward(native, datums(), loss, "native");
    const b = await evolverPpoForwardBackward(linearised, datums(), loss, "linearised");
    assert.ok(Math.abs(a.metrics["loss:sum"] - b.metrics["loss:sum"]) < 1e-5, `loss ${a.metrics["loss:sum"]} vs ${b.metrics["loss:sum"]}`);
    assert.ok(a.metrics["clip_fraction:mean"] > 0 && Math.abs(a.metrics["clip_fraction:mean"] - b.metrics["clip_fraction:mean"]) < 1e-9);
    await native.optimStep(linearStep);
    await linearised.optimStep(linearStep);
    const [before, afterNative, afterLinearised] = await Promise.all([
      updatedWeights(base, `base-${loraRank}`), updatedWeights(native, `native-${loraRank}`), updatedWeights(linearised, `linearised-${loraRank}`)]);
    let largestUpdate = 0;
    let largestDifference = 0;
    for (const [name, initial] of before) {
      const x = afterNative.get(name)!;
      const y = afterLinearised.get(name)!;
      initial.forEach((w, i) => {
        largestUpdate = Math.max(largestUpdate, Math.abs(x[i] - w));
        largestDifference = Math.max(largestDifference, Math.abs(x[i] - y[i]));
      });
    }
    assert.ok(largestUpdate > 1e-3, `rank ${loraRank}: the update is too small to compare (${largestUpdate})`);
    assert.ok(largestDifference < 1e-5, `rank ${loraRank}: updates differ by ${largestDifference} (largest update ${largestUpdate})`);
  }
});

test("a trainer's features decide the route, and what cannot run there is named", async () => {
  const local = trainerFeatures(await localTrainer().client.capabilities());
  assert.equal(evolverPpoRoute(local), "native");
  assert.deepEqual(evolverPpoProblems(PolicyLossConfig.parse({ kl_beta: 0.1, entropy_coeff: 0.01 }), local), []);
  const skyrl = trainerFeatures({ supported_models: [{ model_name: "Qwen/Qwen3-8B" }] });
  assert.equal(evolverPpoRoute(skyrl), "linearised");
  assert.deepEqual(evolverPpoProblems(PolicyLossConfig.parse({}), skyrl), []);
  const problems = evolverPpoProblems(PolicyLossConfig.parse({ kl_beta: 0.1, entropy_coeff: 0.01 }), skyrl);
  assert.equal(problems.length, 2);
  assert.match(problems.join("\n"), /loss\.kl_beta.*reference logprobs[\s\S]*loss\.entropy_coeff.*full next-token distribution/);
});
