import { test } from "node:test";
import assert from "node:assert/strict";
import { exportAudit, renderAuditMarkdown } from "./audit.js";
import { sketchTrajectory } from "./test-support/trajectories.js";

const trajectory = sketchTrajectory({
  id: "t7",
  reward: 0,
  success: false,
  steps: [
    { call: "search_flights", answer: "no flights found ".repeat(40) },
    { call: "book_flight", answer: "error: no such flight" },
  ],
});

test("the audit lists every step with its action, an observation excerpt, verdict, reason and advantage", () => {
  const report = exportAudit(
    trajectory,
    {
      trajectoryId: "t7",
      judgeModel: "scripted:judge",
      status: "ok",
      attempts: 1,
      cached: false,
      verdicts: [
        { step: 0, label: "GOOD", reason: "searching first was right" },
        { step: 1, label: "BAD", reason: "booked a flight that was never found" },
      ],
    },
    { stepAdvantages: [-0.5, -1.25], observationChars: 50 },
  );
  assert.equal(report.task, "Book a flight from Paris to Rome.");
  assert.equal(report.steps.length, 2);
  assert.equal(report.steps[0].action, "CALL search_flights({})");
  assert.equal(report.steps[0].observationExcerpt.length, 51); // 50 characters and an ellipsis
  assert.deepEqual([report.steps[1].label, report.steps[1].advantage], ["BAD", -1.25]);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report); // plain data, ready for the store

  const markdown = renderAuditMarkdown(report);
  assert.match(markdown, /# Trajectory t7 \(task task-1\)/);
  assert.match(markdown, /reward 0, failure/);
  assert.match(markdown, /## Step 1: \*\*BAD\*\*, advantage -1\.2500[\s\S]*CALL book_flight[\s\S]*Reason: booked a flight/);
});

test("a failed judgment still shows the steps, without verdicts, and says why it failed", () => {
  const report = exportAudit(trajectory, {
    trajectoryId: "t7",
    judgeModel: "scripted:judge",
    status: "failed",
    error: "LLM_BAD_JSON: not JSON",
    attempts: 3,
    cached: false,
    verdicts: [],
  });
  assert.deepEqual(report.steps.map((s) => s.label), [null, null]);
  const markdown = renderAuditMarkdown(report);
  assert.match(markdown, /failed \(LLM_BAD_JSON: not JSON\)/);
  assert.match(markdown, /## Step 0: no verdict/);
});
