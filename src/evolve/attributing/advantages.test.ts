import { test } from "node:test";
import assert from "node:assert/strict";
import {
  adcaGroupAdvantages,
  alphaAt,
  broadcastToStepTokens,
  groupZScores,
  grpoAdvantages,
  suffixSums,
  type StepLabelValue,
} from "./advantages.js";
import { assertAllClose, readAttributionVectors, seededRandom } from "./test-support/vectors.js";

const vectors = readAttributionVectors();

test("shared advantage vectors: GRPO, ADCA step and token advantages agree to 1e-6", () => {
  assert.equal(vectors.version, 1);
  assert.ok(vectors.advantages.length >= 6);
  for (const vector of vectors.advantages) {
    const options = { alpha: vector.config.alpha, normalizeStd: vector.config.normalize_std, eps: vector.config.eps };
    let fallbacks = 0;
    vector.groups.forEach((group, g) => {
      const where = `${vector.name} group ${g}`;
      assertAllClose(grpoAdvantages(group.outcomes, options), vector.expected.grpo[g], 1e-6, `${where} grpo`);
      const result = adcaGroupAdvantages(
        { outcomes: group.outcomes, stepLabels: group.step_labels, stepCounts: group.step_token_counts.map((c) => c.length) },
        options,
      );
      fallbacks += result.fellBack.filter(Boolean).length;
      result.stepAdvantages.forEach((row, i) => {
        assertAllClose(row, vector.expected.adca_step_advantages[g][i], 1e-6, `${where} traj ${i} steps`);
        const tokens = broadcastToStepTokens(row, group.step_token_counts[i]);
        assertAllClose(tokens, vector.expected.adca_token_advantages[g][i], 1e-6, `${where} traj ${i} tokens`);
      });
    });
    assert.equal(fallbacks, vector.expected.adca_fallbacks, vector.name);
  }
});

test("z-scores: lone values and constant groups get exactly 0; otherwise mean 0 and population std 1", () => {
  const options = { normalizeStd: true, eps: 1e-6 };
  assert.deepEqual(groupZScores([0.7], options), [0]);
  assert.deepEqual(groupZScores([2, 2, 2], options), [0, 0, 0]);
  assert.deepEqual(groupZScores([], options), []);
  // Outcomes [0, 1]: mean 0.5, population std 0.5 -> [-1, 1] (with n-1 the answer would be ±0.707).
  assert.deepEqual(groupZScores([0, 1], options), [-1, 1]);
  const z = groupZScores([3, 1, 4, 1, 5], options);
  const mean = z.reduce((a, b) => a + b, 0) / z.length;
  const variance = z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length;
  assert.ok(Math.abs(mean) < 1e-12 && Math.abs(variance - 1) < 1e-12);
  assert.deepEqual(groupZScores([2, 0, 1], { normalizeStd: false, eps: 1e-6 }), [1, -1, 0]);
});

function randomGroup(random: () => number) {
  const size = 1 + Math.floor(random() * 6);
  const stepCounts = Array.from({ length: size }, () => 1 + Math.floor(random() * 6));
  return {
    outcomes: Array.from({ length: size }, () => (random() < 0.3 ? 1 : random())),
    stepCounts,
    stepLabels: stepCounts.map((n) =>
      random() < 0.15 ? null : Array.from({ length: n }, () => (random() < 0.5 ? 1 : -1) as StepLabelValue),
    ),
  };
}

test("property: ADCA with alpha = 0 gives every step exactly its GRPO advantage (200 seeded groups)", () => {
  const random = seededRandom(2024);
  for (let trial = 0; trial < 200; trial++) {
    const group = randomGroup(random);
    const normalizeStd = trial % 2 === 0;
    const options = { alpha: 0, normalizeStd, eps: 1e-6 };
    const grpo = grpoAdvantages(group.outcomes, options);
    const adca = adcaGroupAdvantages(group, options);
    adca.stepAdvantages.forEach((row, i) => {
      assert.equal(row.length, group.stepCounts[i]);
      for (const value of row) assert.ok(Math.abs(value - grpo[i]) < 1e-12, `trial ${trial} traj ${i}`);
    });
  }
});

test("property: a step's advantage is its reward plus the next step's advantage, and the last is its reward", () => {
  const random = seededRandom(99);
  for (let trial = 0; trial < 200; trial++) {
    const group = randomGroup(random);
    const adca = adcaGroupAdvantages(group, { alpha: 0.1 + random(), normalizeStd: true, eps: 1e-6 });
    adca.stepAdvantages.forEach((advantages, i) => {
      const rewards = adca.stepRewards[i];
      const last = advantages.length - 1;
      assert.ok(Math.abs(advantages[last] - rewards[last]) < 1e-12);
      for (let j = 0; j < last; j++) assert.ok(Math.abs(advantages[j] - (rewards[j] + advantages[j + 1])) < 1e-12);
    });
  }
  assert.deepEqual(suffixSums([1, 2, 3]), [6, 5, 3]);
  assert.deepEqual(suffixSums([]), []);
});

test("a failed judgment falls back to GRPO, is counted, and leaves the other trajectories' step pool alone", () => {
  const options = { alpha: 1, normalizeStd: true, eps: 1e-6 };
  const withFailure = adcaGroupAdvantages(
    { outcomes: [1, 0, 1], stepLabels: [[1, -1], null, [-1]], stepCounts: [2, 3, 1] },
    options,
  );
  const grpo = grpoAdvantages([1, 0, 1], options);
  assert.deepEqual(withFailure.fellBack, [false, true, false]);
  assert.deepEqual(withFailure.stepAdvantages[1], [grpo[1], grpo[1], grpo[1]]);
  // The pool is [1,-1,-1] whatever the failed trajectory's steps were.
  const pooled = groupZScores([1, -1, -1], options);
  assert.ok(Math.abs(withFailure.stepRewards[0][0] - pooled[0]) < 1e-12);
});

test("bad shapes are rejected with a clear error", () => {
  const options = { alpha: 1, normalizeStd: true, eps: 1e-6 };
  assert.throws(
    () => adcaGroupAdvantages({ outcomes: [1, 0], stepLabels: [[1, 1], [1]], stepCounts: [2, 2] }, options),
    (error: Error & { code?: string }) => error.code === "ADVANTAGE_SHAPE" && /trajectory 1 has 2 steps but 1 labels/.test(error.message),
  );
  assert.throws(() => broadcastToStepTokens([1, 2], [3]), /2 step advantages but 1 step token counts/);
});

test("alpha schedule: constant, and cosine from alpha at step 0 to alphaMin at totalSteps and beyond", () => {
  assert.equal(alphaAt(0.3, { kind: "constant" }, 1000), 0.3);
  const cosine = { kind: "cosine", alphaMin: 0.1, totalSteps: 100 } as const;
  assert.equal(alphaAt(0.5, cosine, 0), 0.5);
  assert.ok(Math.abs(alphaAt(0.5, cosine, 50) - 0.3) < 1e-12); // halfway: alphaMin + (alpha - alphaMin) / 2
  assert.ok(Math.abs(alphaAt(0.5, cosine, 100) - 0.1) < 1e-12);
  assert.ok(Math.abs(alphaAt(0.5, cosine, 250) - 0.1) < 1e-12);
});
