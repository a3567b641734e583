import { test } from "node:test";
import assert from "node:assert/strict";
import { aggregationWeights, lowVarKl, policyLoss, tokenPolicyLoss, type PolicyLossConfig } from "./loss.js";
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
  }
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
    const config: PolicyLossConfig = {
      clipLow: 0.2,
      clipHigh: 0.28,
      clipHighBoost: 0.4,
      dualClipC: 3,
      klBeta: 0.1,
      klType: "low_var_kl",
      aggregation: trial % 2 === 0 ? "token-mean" : "seq-mean-token-mean",
    };
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
