import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createLlmJudge,
  createRuleJudge,
  MemoryVerdictCache,
  parseJudgeAnswer,
  summarizeJudgments,
  type VerdictCache,
} from "./judge.js";
import { JUDGE_PROMPT_VERSION } from "./judge-prompt.js";
import type { StepVerdict } from "./schema.js";
import { ScriptedProvider, sketchTrajectory, verdictJson } from "./test-support/trajectories.js";

const twoSteps = sketchTrajectory({
  id: "t1",
  reward: 1,
  steps: [
    { call: "search_flights", answer: "AF123 at 9:00" },
    { call: "book_flight", answer: "booked AF123" },
  ],
});

test("a valid structured answer becomes ordered verdicts; the request carries the JSON schema, steps and outcome", async () => {
  const provider = new ScriptedProvider([verdictJson(["GOOD", "BAD"])]);
  const [judgment] = await createLlmJudge({ provider }).judge([{ trajectory: twoSteps }]);
  assert.equal(judgment.status, "ok");
  assert.equal(judgment.judgeModel, "scripted:judge");
  assert.equal(judgment.attempts, 1);
  assert.deepEqual(
    judgment.verdicts.map((v) => [v.step, v.label]),
    [[0, "GOOD"], [1, "BAD"]],
  );
  const request = provider.requests[0];
  assert.equal(request.jsonSchema?.name, "step_verdicts");
  assert.equal((request.jsonSchema?.schema as { type?: string }).type, "object");
  const prompt = request.messages.map((m) => m.content).join("\n");
  assert.match(prompt, /Book a flight from Paris to Rome/);
  assert.match(prompt, /STEP 0[\s\S]*CALL search_flights[\s\S]*AF123 at 9:00[\s\S]*STEP 1[\s\S]*CALL book_flight/);
  assert.match(prompt, /score 1; the episode SUCCEEDED/);
});

test("bad JSON, then a valid answer: retried and ok after two calls", async () => {
  const provider = new ScriptedProvider(["Step 0: GOOD, step 1: GOOD", verdictJson(["GOOD", "GOOD"])]);
  const [judgment] = await createLlmJudge({ provider }).judge([{ trajectory: twoSteps }]);
  assert.equal(judgment.status, "ok");
  assert.equal(judgment.attempts, 2);
  assert.equal(provider.requests.length, 2);
});

test("a transport error is retried too", async () => {
  const provider = new ScriptedProvider([new Error("ECONNRESET"), verdictJson(["BAD", "GOOD"])]);
  const [judgment] = await createLlmJudge({ provider }).judge([{ trajectory: twoSteps }]);
  assert.equal(judgment.status, "ok");
  assert.equal(judgment.verdicts[0].label, "BAD");
});

test("the wrong verdict count every time: marked failed after maxAttempts, counted, not cached", async () => {
  const cache = new MemoryVerdictCache();
  const provider = new ScriptedProvider([verdictJson(["GOOD"]), verdictJson(["GOOD", "GOOD", "BAD"]), verdictJson([])]);
  const judge = createLlmJudge({ provider, cache, config: { maxAttempts: 3 } });
  const [judgment] = await judge.judge([{ trajectory: twoSteps }]);
  assert.equal(judgment.status, "failed");
  assert.equal(judgment.attempts, 3);
  assert.deepEqual(judgment.verdicts, []);
  assert.match(judgment.error ?? "", /^JUDGE_VERDICT_COUNT: the judge gave 0 verdicts for trajectory 't1', which has 2 steps/);
  assert.equal(cache.size, 0);
  const summary = summarizeJudgments([judgment]);
  assert.deepEqual([summary.failed, summary.ok, summary.calls], [1, 0, 3]);
});

test("answers are checked: fences are tolerated, steps may come out of order, but not repeated or out of range", () => {
  const fenced = "```json\n" + verdictJson(["GOOD", "BAD"]) + "\n```";
  assert.deepEqual(parseJudgeAnswer(fenced, twoSteps).map((v) => v.label), ["GOOD", "BAD"]);
  const reversed = JSON.stringify({ steps: [{ step: 1, reason: "b", judgment: "BAD" }, { step: 0, reason: "a", judgment: "GOOD" }] });
  assert.deepEqual(parseJudgeAnswer(reversed, twoSteps).map((v) => `${v.step}${v.label}${v.reason}`), ["0GOODa", "1BADb"]);
  const repeated = JSON.stringify({ steps: [{ step: 0, reason: "", judgment: "GOOD" }, { step: 0, reason: "", judgment: "BAD" }] });
  assert.throws(() => parseJudgeAnswer(repeated, twoSteps), (e: { code?: string }) => e.code === "JUDGE_VERDICT_COUNT");
  const outOfRange = JSON.stringify({ steps: [{ step: 0, reason: "", judgment: "GOOD" }, { step: 2, reason: "", judgment: "BAD" }] });
  assert.throws(() => parseJudgeAnswer(outOfRange, twoSteps), (e: { code?: string }) => e.code === "JUDGE_VERDICT_COUNT");
  const badLabel = JSON.stringify({ steps: [{ step: 0, reason: "", judgment: "MAYBE" }, { step: 1, reason: "", judgment: "BAD" }] });
  assert.throws(() => parseJudgeAnswer(badLabel, twoSteps), (e: { code?: string }) => e.code === "LLM_BAD_JSON");
});

test("cache: the same content (another id) is a hit; another outcome, model or prompt version is a miss", async () => {
  const stored = new Map<string, StepVerdict[]>();
  const backing: VerdictCache = { get: (key) => stored.get(key), set: (key, value) => void stored.set(key, value) };
  const provider = new ScriptedProvider([verdictJson(["GOOD", "BAD"]), verdictJson(["BAD", "BAD"]), verdictJson(["GOOD", "GOOD"])]);
  const cache = new MemoryVerdictCache(backing);
  const judge = createLlmJudge({ provider, cache });
  await judge.judge([{ trajectory: twoSteps }]);
  const twin = { ...twoSteps, id: "t1-twin" };
  const [hit] = await judge.judge([{ trajectory: twin }]);
  assert.equal(hit.cached, true);
  assert.equal(hit.trajectoryId, "t1-twin");
  assert.equal(provider.requests.length, 1);

  const [otherOutcome] = await judge.judge([{ trajectory: twoSteps, outcome: { reward: 0, success: false } }]);
  assert.equal(otherOutcome.cached, false);
  assert.deepEqual(otherOutcome.verdicts.map((v) => v.label), ["BAD", "BAD"]);
  const [otherVersion] = await createLlmJudge({ provider, cache, promptVersion: `${JUDGE_PROMPT_VERSION}-b` }).judge([
    { trajectory: twoSteps },
  ]);
  assert.equal(otherVersion.cached, false);
  assert.equal(provider.requests.length, 3);

  // A fresh in-memory cache over the same persistent backing serves the first verdicts without a call.
  const silent = new ScriptedProvider([]);
  const [fromBacking] = await createLlmJudge({ provider: silent, cache: new MemoryVerdictCache(backing) }).judge([
    { trajectory: twoSteps },
  ]);
  assert.equal(fromBacking.cached, true);
  assert.equal(silent.requests.length, 0);
  const otherModel = new ScriptedProvider([verdictJson(["GOOD", "GOOD"])], { id: "scripted:other" });
  const [missByModel] = await createLlmJudge({ provider: otherModel, cache }).judge([{ trajectory: twoSteps }]);
  assert.equal(missByModel.cached, false);
});

test("batches run with at most `concurrency` judge calls in flight and keep the input order", async () => {
  const trajectories = Array.from({ length: 7 }, (_, i) =>
    sketchTrajectory({ id: `t${i}`, reward: i % 2, steps: [{ call: `tool_${i}`, answer: `answer ${i}` }] }),
  );
  // Each answer depends on the request, so a mixed-up order would show.
  const label = (request: { messages: { content: string }[] }) =>
    verdictJson([/tool_[0246]/.test(request.messages[1].content) ? "GOOD" : "BAD"]);
  const provider = new ScriptedProvider(Array.from({ length: 7 }, () => label), { delayMs: 5 });
  const judgments = await createLlmJudge({ provider, config: { concurrency: 3 } }).judge(trajectories.map((trajectory) => ({ trajectory })));
  assert.equal(provider.maxInFlight, 3);
  assert.deepEqual(judgments.map((j) => j.trajectoryId), trajectories.map((t) => t.id));
  assert.deepEqual(judgments.map((j) => j.verdicts[0].label), ["GOOD", "BAD", "GOOD", "BAD", "GOOD", "BAD", "GOOD"]);
});

test("identical rollouts in one batch share one judge call", async () => {
  const provider = new ScriptedProvider([verdictJson(["GOOD", "BAD"])], { delayMs: 5 });
  const judgments = await createLlmJudge({ provider }).judge([
    { trajectory: twoSteps },
    { trajectory: { ...twoSteps, id: "same" } },
  ]);
  assert.equal(provider.requests.length, 1);
  assert.deepEqual(judgments.map((j) => [j.trajectoryId, j.status, j.attempts]), [["t1", "ok", 1], ["same", "ok", 0]]);
});

test("rule judge: labels or full verdicts, same output type; a wrong count or a throwing rule gives a failed judgment", async () => {
  const judge = createRuleJudge("expected-calls", (trajectory) =>
    trajectory.steps.map((step) => (step.action.tool_calls?.[0]?.function.name === "book_flight" ? "GOOD" : "BAD")),
  );
  const [judgment] = await judge.judge([{ trajectory: twoSteps }]);
  assert.equal(judgment.judgeModel, "rule:expected-calls");
  assert.equal(judgment.status, "ok");
  assert.deepEqual(judgment.verdicts.map((v) => v.label), ["BAD", "GOOD"]);

  const short = await createRuleJudge("short", () => ["GOOD"]).judge([{ trajectory: twoSteps }]);
  assert.equal(short[0].status, "failed");
  assert.match(short[0].error ?? "", /JUDGE_VERDICT_COUNT/);
  const throwing = await createRuleJudge("broken", () => {
    throw new Error("no ground truth for this task");
  }).judge([{ trajectory: twoSteps }]);
  assert.deepEqual([throwing[0].status, throwing[0].error], ["failed", "no ground truth for this task"]);
  const full = await createRuleJudge("full", () => [
    { step: 0, label: "GOOD", reason: "found the flight" },
    { step: 1, label: "GOOD", reason: "booked it" },
  ]).judge([{ trajectory: twoSteps }]);
  assert.equal(full[0].verdicts[1].reason, "booked it");
});
