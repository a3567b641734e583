import { test } from "node:test";
import assert from "node:assert/strict";
import { AttributionConfig, TrajectoryJudgment } from "./schema.js";

test("attribution config: documented defaults, and every unknown key reported at once", () => {
  const config = AttributionConfig.parse({});
  assert.deepEqual(
    [config.enabled, config.alpha, config.alphaSchedule.kind, config.normalizeStd, config.eps, config.judge.maxAttempts],
    [true, 0.1, "constant", true, 1e-6, 3],
  );
  const result = AttributionConfig.safeParse({ alpah: 1, judge: { concurency: 2 }, alphaSchedule: { kind: "cosine" } });
  assert.equal(result.success, false);
  const paths = result.error!.issues.map((issue) => `${issue.code}:${issue.path.join(".")}`).sort();
  assert.deepEqual(paths, ["invalid_type:alphaSchedule.totalSteps", "unrecognized_keys:", "unrecognized_keys:judge"]);
});

test("a judgment parses with its counters defaulted; labels other than GOOD/BAD are rejected", () => {
  const judgment = TrajectoryJudgment.parse({
    trajectoryId: "t",
    judgeModel: "m",
    status: "ok",
    verdicts: [{ step: 0, label: "GOOD", reason: "r" }],
  });
  assert.deepEqual([judgment.attempts, judgment.cached], [0, false]);
  assert.equal(
    TrajectoryJudgment.safeParse({ ...judgment, verdicts: [{ step: 0, label: "OK", reason: "" }] }).success,
    false,
  );
});
