import { test } from "node:test";
import assert from "node:assert/strict";
import { aggregationWeights, lowVarKl, policyLoss, tokenPolicyLoss } from "./loss.js";
import { PolicyLossConfig } from "./schema.js";
import {
  assertAllClose,
  lossConfigFromVector,
  lossInputFromVector,
  readAttributionVectors,
  seededRandom,
} from "./test-support/vectors.js";

const vectors = readAttributionVectors();

test("shared loss vectors: token losses, KL, aggregated loss and gradients agree to 1e-6", () => {
  assert.ok(vectors.losses.length >= 12);
  for (const vector of vectors.losses) {
    const result = policyLoss(lossInputFromVector(vector), lossConfigFromVector(vector));
    const { expected } = vector;
    expected.token_losses.forEach((row, s) => assertAllClose(result.tokenLosses[s], row, 1e-6, `${vector.name} pg[${s}]`));
    expected.grad_logprobs.forEach((row, s) => assertAllClose(result.gradLogprobs[s], row, 1e-6, `${vector.name} grad[${s}]`));
    if (expected.kl === null) assert.equal(result.kl, null, vector.name);
    else expected.kl.forEach((row, s) => assertAllClose(result.kl![s], row, 1e-6, `${vector.name} kl[${s}]`));
    assertAllClose([result.loss], [expected.loss], 1e-6, `${vector.name} loss`);
    if (expected.entropy !== undefined) assertAllClose([result.entropy], [expected.entropy], 1e-6, `${vector.name} entropy`);
  }
  assert.ok(vectors.losses.some((v) => (v.config.entropy_coeff ?? 0) > 0), "a vector has an entropy bonus");
});

test("entropy bonus: the loss falls by entropy_coeff times the aggregated entropy; the logprob gradient is unchanged", () => {
  // r = 1, A = [1, 0]: pg loss (-1 + 0)/2 = -0.5; entropies [2, 4] at weights 1/2: aggregate 3; coeff 0.1: -0.3.
  const input = { logprobs: [[-1, -2]], oldLogprobs: [[-1, -2]], refLogprobs: null, advantages: [[1, 0]], mask: [[1, 1]],
    experienceGuided: [false], entropies: [[2, 4]] };
  const withBonus = policyLoss(input, PolicyLossConfig.parse({ entropy_coeff: 0.1 }));
  const without = policyLoss(input, PolicyLossConfig.parse({}));
  assertAllClose([withBonus.loss, without.loss, withBonus.entropy], [-0.8, -0.5, 3], 1e-12, "losses");
  assert.deepEqual(withBonus.gradLogprobs, without.gradLogprobs);
  assert.throws(() => policyLoss({ ...input, entropies: null }, PolicyLossConfig.parse({ entropy_coeff: 0.1 })), /no entropies/);
});

test("torchtune-style hand case: the ratio is e, clipped to 1.2, so the loss is -1.2·A and the gradient 0", () => {
  const above = tokenPolicyLoss(0, -1, 2, 0.2, 0.2, null);
  assert.ok(Math.abs(above.ratio - Math.E) < 1e-12);
  assert.ok(Math.abs(above.loss - -2.4) < 1e-12);
  assert.equal(above.grad, 0);
  // Negative advantage, ratio 1/e below the floor 0.8: loss -A·0.8 = 0.8, gradient 0.
  const below = tokenPolicyLoss(-1, 0, -1, 0.2, 0.2, 3);
  assert.ok(Math.abs(below.loss - 0.8) < 1e-12 && below.grad === 0 && below.clipped);
  // Negative advantage, ratio e^2 = 7.39 > c = 3: dual-clip caps the loss at -c·A = 3.
  const dual = tokenPolicyLoss(0, -2, -1, 0.2, 0.2, 3);
  assert.ok(dual.dualClipped && dual.loss === 3 && dual.grad === 0);
});

test("low_var_kl is 0 where the policies agree, positive elsewhere, clamped to 10", () => {
  assert.deepEqual(lowVarKl(-1, -1), { kl: 0, grad: 0 });
  assert.ok(lowVarKl(-1, -0.5).kl > 0 && lowVarKl(-1, -1.5).kl > 0);
  assert.equal(lowVarKl(-5, 0).kl, 10);
});

test("aggregation weights sum to 1 over trained tokens, and to 0 with nothing to train", () => {
  const mask = [[1, 1, 0], [1, 0, 0], [0, 0, 0]];
  for (const aggregation of ["token-mean", "seq-mean-token-mean"] as const) {
    const total = aggregationWeights(mask, aggregation).flat().reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-12, aggregation);
    assert.equal(aggregationWeights([[0, 0]], aggregation).flat().reduce((a, b) => a + b, 0), 0);
  }
});

// Central differences on the total loss, token by token. Inputs are kept away from the clip boundaries and the KL
// clamp (the loss has kinks there), so the numerical and analytic gradients must agree closely.
function finiteDifferenceGradient(input: Parameters<typeof policyLoss>[0], config: PolicyLossConfig): number[][] {
  const h = 1e-6;
  return input.logprobs.map((row, s) =>
    row.map((_, t) => {
      const shifted = (delta: number) => {
        const logprobs = input.logprobs.map((r, i) => r.map((v, j) => (i === s && j === t ? v + delta : v)));
        return policyLoss({ ...input, logprobs }, config).loss;
      };
      return (shifted(h) - shifted(-h)) / (2 * h);
    }),
  );
}

function nearKink(logprob: number, old: number, ceiling: number, clipLow: number, c: number): boolean {
  const ratio = Math.exp(logprob - old);
  return [1 - clipLow, 1 + ceiling, c].some((bound) => Math.abs(ratio - bound) < 1e-3);
}

test("analytic gradients match finite differences on seeded random batches (both aggregations, every feature)", () => {
  const random = seededRandom(31);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  for (let trial = 0; trial < 40; trial++) {
    const config = PolicyLossConfig.parse({
      clip_high_boost: 0.4,
      kl_beta: 0.1,
      entropy_coeff: 0.05,
      aggregation: trial % 2 === 0 ? "token-mean" : "seq-mean-token-mean",
    });
    const grid = (f: () => number) => Array.from({ length: 3 }, () => Array.from({ length: 5 }, f));
    const old = grid(() => -0.1 - 2 * random());
    const guided = [random() < 0.5, random() < 0.5, random() < 0.5];
    const logprobs = old.map((row, s) =>
      row.map((o) => {
        let value = o + 0.5 * normal();
        while (nearKink(value, o, guided[s] ? 0.4 : 0.28, 0.2, 3)) value += 0.01;
        return value;
      }),
    );
    const input = {
      logprobs,
      oldLogprobs: old,
      refLogprobs: logprobs.map((row) => row.map((l) => l + 0.5 * normal())),
      advantages: grid(() => 1.5 * normal()),
      mask: grid(() => (random() < 0.8 ? 1 : 0)),
      experienceGuided: guided,
      entropies: grid(() => 3 * random()),
    };
    const analytic = policyLoss(input, config).gradLogprobs;
    const numeric = finiteDifferenceGradient(input, config);
    analytic.forEach((row, s) => assertAllClose(row, numeric[s], 1e-5, `trial ${trial} seq ${s}`));
  }
});

test("inconsistent shapes are rejected with the offending field named", () => {
  const config = lossConfigFromVector(vectors.losses[0]);
  const input = lossInputFromVector(vectors.losses[0]);
  assert.throws(() => policyLoss({ ...input, mask: [[1, 1]] }, config), /mask\[0\] has 2 tokens, logprobs\[0\] has 3/);
  assert.throws(() => policyLoss({ ...input, experienceGuided: [] }, config), /experienceGuided has 0 entries/);
});
