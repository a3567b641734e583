import { test } from "node:test";
import assert from "node:assert/strict";
import { grpoAdvantages } from "./advantages.js";
import { AttributionConfig, type TrajectoryJudgment } from "./schema.js";
import { computeTrajectoryAdvantages, shouldAttribute } from "./trajectory-advantages.js";
import { seededRandom } from "./test-support/vectors.js";
import { sketchTrajectory } from "./test-support/trajectories.js";

const config = AttributionConfig.parse({ alpha: 0.5 });

function judgment(id: string, labels: ("GOOD" | "BAD")[] | null): TrajectoryJudgment {
  return {
    trajectoryId: id,
    judgeModel: "rule:test",
    status: labels === null ? "failed" : "ok",
    verdicts: (labels ?? []).map((label, step) => ({ step, label, reason: "" })),
    attempts: 0,
    cached: false,
  };
}

const steps = (n: number) => Array.from({ length: n }, (_, i) => ({ call: `f${i}`, answer: `r${i}` }));

test("the balanced hand case on real trajectories: step advantages land on each step's sampled tokens only", () => {
  const success = sketchTrajectory({ id: "a", reward: 1, steps: steps(2), sampledTokens: [3, 2], maskedTokens: [[1], []] });
  const failure = sketchTrajectory({ id: "b", reward: 0, steps: steps(2) });
  const { advantages, stats } = computeTrajectoryAdvantages(
    [success, failure],
    [judgment("a", ["GOOD", "BAD"]), judgment("b", ["GOOD", "BAD"])],
    config,
    0,
  );
  // Same numbers as the vector "adca-mixed-labels-balanced": [1.0, 0.5] and [-1.0, -1.5].
  assert.deepEqual(advantages[0].stepAdvantages, [1.0, 0.5]);
  assert.deepEqual(advantages[1].stepAdvantages, [-1.0, -1.5]);
  assert.equal(advantages[0].source, "adca");
  // Segments: prompt, policy step 0 (token 1 masked out), environment, policy step 1, environment.
  assert.deepEqual(advantages[0].segmentAdvantages, [[0, 0, 0], [1.0, 0, 1.0], [0, 0], [0.5, 0.5], [0, 0]]);
  assert.deepEqual([stats.judged, stats.fallbacks, stats.groups, stats.alpha], [2, 0, 1, 0.5]);
});

test("a failed or missing judgment falls back to GRPO and is counted; groups are formed by groupKey", () => {
  const trajectories = [
    sketchTrajectory({ id: "a", groupKey: "x", reward: 1, steps: steps(2) }),
    sketchTrajectory({ id: "b", groupKey: "x", reward: 0, steps: steps(3) }),
    sketchTrajectory({ id: "c", groupKey: "y", reward: 0.5, steps: steps(1) }),
    sketchTrajectory({ id: "d", groupKey: "x", reward: 0, steps: steps(1) }),
  ];
  const { advantages, stats } = computeTrajectoryAdvantages(
    trajectories,
    [judgment("a", ["GOOD", "GOOD"]), judgment("b", null), judgment("d", ["BAD"])],
    config,
    0,
  );
  const grpoX = grpoAdvantages([1, 0, 0], { normalizeStd: true, eps: 1e-6 });
  assert.deepEqual(advantages[1].stepAdvantages, [grpoX[1], grpoX[1], grpoX[1]]);
  assert.equal(advantages[1].source, "grpo-fallback");
  assert.equal(advantages[2].source, "grpo-fallback"); // no judgment given at all
  assert.deepEqual(advantages[2].stepAdvantages, [0]); // a group of one
  assert.deepEqual([stats.groups, stats.singletonGroups, stats.judged, stats.fallbacks], [2, 1, 2, 2]);
});

test("attribution off, no judgments, or past attributionSteps: plain GRPO on every step", () => {
  const trajectories = [
    sketchTrajectory({ id: "a", reward: 1, steps: steps(2) }),
    sketchTrajectory({ id: "b", reward: 0, steps: steps(1) }),
  ];
  const judgments = [judgment("a", ["BAD", "BAD"]), judgment("b", ["GOOD"])];
  const expectGrpo = (result: ReturnType<typeof computeTrajectoryAdvantages>) => {
    assert.deepEqual(result.advantages.map((a) => a.stepAdvantages), [[1, 1], [-1]]);
    assert.ok(result.advantages.every((a) => a.source === "grpo"));
    assert.equal(result.stats.fallbacks, 0);
  };
  expectGrpo(computeTrajectoryAdvantages(trajectories, judgments, AttributionConfig.parse({ enabled: false }), 0));
  expectGrpo(computeTrajectoryAdvantages(trajectories, null, config, 0));
  const limited = AttributionConfig.parse({ alpha: 0.5, attributionSteps: 10 });
  assert.equal(shouldAttribute(limited, 9), true);
  assert.equal(shouldAttribute(limited, 10), false);
  expectGrpo(computeTrajectoryAdvantages(trajectories, judgments, limited, 10));
  assert.equal(computeTrajectoryAdvantages(trajectories, judgments, limited, 9).advantages[0].source, "adca");
});

test("the cosine schedule sets alpha from the training step", () => {
  const cosine = AttributionConfig.parse({ alpha: 0.4, alphaSchedule: { kind: "cosine", totalSteps: 100 } });
  const trajectories = [sketchTrajectory({ id: "a", reward: 1, steps: steps(1) })];
  assert.equal(computeTrajectoryAdvantages(trajectories, [], cosine, 0).stats.alpha, 0.4);
  assert.ok(Math.abs(computeTrajectoryAdvantages(trajectories, [], cosine, 50).stats.alpha - 0.2) < 1e-12);
});

test("property: tokens outside the loss mask and outside policy segments never get an advantage", () => {
  const random = seededRandom(5);
  for (let trial = 0; trial < 50; trial++) {
    const trajectories = Array.from({ length: 2 + Math.floor(random() * 4) }, (_, i) => {
      const n = 1 + Math.floor(random() * 4);
      const sampledTokens = Array.from({ length: n }, () => 1 + Math.floor(random() * 5));
      const maskedTokens = sampledTokens.map((count) => Array.from({ length: count }, (_, t) => t).filter(() => random() < 0.3));
      return sketchTrajectory({ id: `t${i}`, reward: random(), steps: steps(n), sampledTokens, maskedTokens });
    });
    const judgments = trajectories.map((t) =>
      judgment(t.id, random() < 0.2 ? null : t.steps.map(() => (random() < 0.5 ? "GOOD" : "BAD"))),
    );
    const { advantages } = computeTrajectoryAdvantages(trajectories, judgments, config, 0);
    trajectories.forEach((trajectory, i) => {
      trajectory.segments.forEach((segment, s) => {
        segment.tokens.forEach((_, t) => {
          const value = advantages[i].segmentAdvantages[s][t];
          if (segment.source !== "policy" || segment.lossMask[t] === 0) assert.equal(value, 0);
          else assert.equal(value, advantages[i].stepAdvantages[segment.step!]);
        });
      });
    });
  }
});

test("a policy segment pointing at a step that does not exist is a shape error", () => {
  const broken = sketchTrajectory({ id: "a", reward: 1, steps: steps(1) });
  broken.segments[1] = { ...broken.segments[1], step: 4 };
  assert.throws(
    () => computeTrajectoryAdvantages([broken], null, config, 0),
    (e: { code?: string; message: string }) => e.code === "ADVANTAGE_SHAPE" && /step 4 but 1 steps/.test(e.message),
  );
});
