import { test } from "node:test";
import assert from "node:assert/strict";
import { createProgressReporter, formatDuration, formatProgress } from "./progress.js";
import type { RolloutEvent, RolloutStats } from "./rollout-events.js";

const stats = (done: number, extra: Partial<RolloutStats> = {}): RolloutStats => ({
  total: 20,
  done,
  successes: Math.floor(done / 2),
  failed: 0,
  errored: 0,
  promptTokens: 0,
  completionTokens: 0,
  inFlight: 0,
  elapsedMs: 0,
  ...extra,
});

test("progress line: done/total, success rate, tokens/s and ETA from the elapsed time", () => {
  // 5 of 20 done in 10 s: 2 s each, 15 left → ETA 30 s; 2500 tokens in 10 s → 250 tok/s.
  const line = formatProgress(stats(5, { successes: 2, elapsedMs: 10_000, completionTokens: 2500, failed: 2, errored: 1 }), "eval", 10);
  assert.equal(line, "eval [###-------] 5/20 | success 40.0% | errored 1 | 250 tok/s | ETA 30s");
  assert.equal(formatProgress(stats(0)), "rollouts 0/20 | success - | 0 tok/s | ETA -");
  assert.deepEqual([formatDuration(59.4), formatDuration(61), formatDuration(3725)], ["59s", "1m01s", "1h02m"]);
});

test("progress on a terminal: redrawn in place, throttled, a newline at the end", () => {
  let out = "";
  let clock = 0;
  const reporter = createProgressReporter({ stream: { write: (t: string) => (out += t) }, tty: true, throttleMs: 100, now: () => clock });
  const end = (done: number): RolloutEvent => ({ type: "model-call", promptTokens: 1, completionTokens: 1, ms: 1, stats: stats(done) });
  reporter.handle(end(1));
  clock = 50;
  reporter.handle(end(2)); // within 100 ms: skipped
  clock = 150;
  reporter.handle(end(3));
  reporter.handle({ type: "batch-end", stats: stats(20) });
  const frames = out.split("\r").slice(1);
  assert.equal(frames.length, 3);
  assert.match(frames[0], / 1\/20 /);
  assert.match(frames[1], / 3\/20 /);
  assert.match(frames[2], / 20\/20 .*\x1b\[K\n$/);
});

test("progress in a log: a plain line at the first result and at each tenth of the batch, no control characters", () => {
  let out = "";
  const reporter = createProgressReporter({ stream: { write: (t: string) => (out += t), isTTY: false } });
  for (let done = 1; done <= 20; done++) reporter.handle({ type: "rollout-crashed", crash: { taskId: "t", groupKey: "g", sampleIndex: 0, error: "x" }, stats: stats(done) });
  reporter.handle({ type: "batch-end", stats: stats(20) });
  const lines = out.trimEnd().split("\n");
  assert.equal(lines.length, 11);
  assert.match(lines[0], /^rollouts 1\/20 /);
  assert.match(lines[1], /^rollouts 2\/20 /);
  assert.match(lines.at(-1)!, /^rollouts 20\/20 /);
  assert.doesNotMatch(out, /\r|\x1b/);
});
