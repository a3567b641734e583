import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyChainEnvironment } from "../env/index.js";
import { gradedTurns, passAtK, scoreTasks, type TaskOutcomes } from "./eval-metrics.js";
import { evaluateAgent, formatEvalTable, sampleTasks } from "./evaluate.js";
import { CounterEnvironment } from "./test-support/counter-env.js";
import { scriptedProvider } from "./test-support/scripted-provider.js";

const ok = { success: true, score: 1 };
const no = { success: false, score: 0 };

test("avg@k and best@k on hand-made outcomes", () => {
  // Task A: 2 of 4 succeed; task B: 0 of 4; task C: 4 of 4.
  // avg@4 = (2/4 + 0 + 1) / 3 = 0.5; best@4 = (1 + 0 + 1) / 3 = 2/3; mean score = 6 / 12 = 0.5.
  const tasks: TaskOutcomes[] = [
    { taskId: "A", category: "x", samples: [ok, no, ok, no] },
    { taskId: "B", category: "x", samples: [no, no, no, { ...no, errored: true }] },
    { taskId: "C", category: "y", samples: [ok, ok, ok, ok] },
  ];
  const scores = scoreTasks(tasks, 4);
  assert.equal(scores.avgAtK, 0.5);
  assert.ok(Math.abs(scores.bestAtK - 2 / 3) < 1e-12);
  assert.equal(scores.meanScore, 0.5);
  // 6 samples did not succeed: 5 failed results and 1 error, counted apart.
  assert.equal(scores.failed, 5);
  assert.equal(scores.errored, 1);
  assert.equal(scores.perTurnAccuracy, undefined);
  assert.deepEqual(scoreTasks([], 4), { tasks: 0, rollouts: 0, avgAtK: 0, bestAtK: 0, meanScore: 0, failed: 0, errored: 0 });
});

test("pass@k estimator: n = k is 'any success'; n > k follows 1 - C(n-c,k)/C(n,k)", () => {
  assert.equal(passAtK(4, 0, 4), 0);
  assert.equal(passAtK(4, 1, 4), 1);
  // n=5, c=2, k=2: C(3,2)/C(5,2) = 3/10, so pass@2 = 0.7.
  assert.ok(Math.abs(passAtK(5, 2, 2) - 0.7) < 1e-12);
  // n=10, c=3, k=1 is the plain success rate 0.3.
  assert.ok(Math.abs(passAtK(10, 3, 1) - 0.3) < 1e-12);
  assert.throws(() => passAtK(2, 1, 3), /k <= n/);
});

test("per-turn accuracy pools graded turns; unchecked turns do not count", () => {
  assert.deepEqual(gradedTurns({ turns: [{ passed: true }, { passed: false, checked: true }, { passed: false, checked: false }] }), [true, false]);
  assert.equal(gradedTurns({ score: 1 }), undefined);
  // 3 of 4 graded turns pass over two rollouts: 0.75.
  const scores = scoreTasks([{ taskId: "A", category: "x", samples: [{ ...ok, turns: [true, true] }, { ...no, turns: [true, false] }] }], 2);
  assert.equal(scores.perTurnAccuracy, 0.75);
});

test("task sampling: the same seed gives the same tasks, another seed others; all tasks without a count", () => {
  const ids = Array.from({ length: 50 }, (_, i) => `t${i}`);
  assert.deepEqual(sampleTasks(ids, 5, 1), sampleTasks(ids, 5, 1));
  assert.notDeepEqual(sampleTasks(ids, 5, 1), sampleTasks(ids, 5, 2));
  assert.equal(new Set(sampleTasks(ids, 5, 1)).size, 5);
  assert.deepEqual([...sampleTasks(ids, undefined, 3)].sort(), [...ids].sort());
  assert.deepEqual([...sampleTasks(ids, 80, 3)].sort(), [...ids].sort(), "never more than the split holds");
});

test("eval end to end on key-chain: a policy right on even digits only, scored per category and overall", async () => {
  const env = new KeyChainEnvironment({ length: 2, symbols: 4, seed: 3 });
  const wrong = (letter: string) => env.secret.find((l) => l !== letter)!;
  // Right on even digits, wrong on odd ones: a task succeeds iff both its digits are even, and a turn passes iff
  // its digit is even.
  const provider = scriptedProvider((request) => {
    const digit = Number(request.messages.at(-1)!.content);
    return digit % 2 === 0 ? env.secret[digit] : wrong(env.secret[digit]);
  });
  const report = await evaluateAgent({ env, model: { kind: "chat", provider }, split: "train", k: 3, concurrency: 4 });
  const trainIds = await env.listTasks("train");
  assert.equal(report.overall.tasks, trainIds.length);
  assert.equal(report.overall.rollouts, trainIds.length * 3);
  const bothEven = trainIds.filter((id) => [...id.slice(3)].every((d) => Number(d) % 2 === 0)).length;
  assert.ok(Math.abs(report.overall.avgAtK - bothEven / trainIds.length) < 1e-12);
  assert.equal(report.overall.bestAtK, report.overall.avgAtK); // a deterministic policy: best@k = avg@k
  const evenDigits = trainIds.flatMap((id) => [...id.slice(3)]).filter((d) => Number(d) % 2 === 0).length;
  assert.ok(Math.abs(report.overall.perTurnAccuracy! - evenDigits / (2 * trainIds.length)) < 1e-12);
  assert.deepEqual(Object.keys(report.categories), ["all"]);
  const table = formatEvalTable(report);
  assert.match(table, /^key-chain train \| scripted:test \| k=3 seed=0\ncategory +tasks +rollouts +avg@3 +best@3 +score +turn acc +failed +errored/);
  assert.match(table, /\noverall +\d+ +\d+ +\d+\.\d%/);
});

test("eval: categories come from the task info, errored rollouts are counted apart, a subset is sampled by seed", async () => {
  const env = new CounterEnvironment(10);
  // Solves only tasks with an even target; the first call of all errors out.
  let calls = 0;
  const provider = scriptedProvider((request) => {
    if (calls++ === 0) throw new Error("cold start");
    const target = Number(/reach (\d+)/.exec(request.messages[1].content)![1]);
    const k = target % 2 === 0 ? target : target + 1;
    return { message: { role: "assistant", content: "", tool_calls: [{ id: "a", type: "function", function: { name: "add", arguments: `{"k": ${k}}` } }, { id: "f", type: "function", function: { name: "finish", arguments: "{}" } }] } };
  });
  const report = await evaluateAgent({ env, model: { kind: "chat", provider }, split: "test", k: 2, tasks: 6, seed: 11, concurrency: 1 });
  const again = sampleTasks(await env.listTasks("test"), 6, 11);
  assert.deepEqual(report.tasks.map((t) => t.taskId), again);
  assert.deepEqual(Object.keys(report.categories), ["even", "odd"]);
  assert.equal(report.categories.odd.avgAtK, 0);
  assert.equal(report.overall.errored, 1);
  assert.match(report.firstError!, /cold start/);
  assert.equal(report.overall.failed, report.overall.rollouts - 1 - report.tasks.reduce((n, t) => n + t.successes, 0));
  const even = report.tasks.filter((t) => t.category === "even");
  // Every even task succeeds twice, except the one whose first sample hit the failing first call.
  assert.equal(even.reduce((sum, t) => sum + t.successes, 0), 2 * even.length - (report.tasks[0].category === "even" ? 1 : 0));
  await assert.rejects(evaluateAgent({ env, model: { kind: "chat", provider }, split: "test", k: 0 }), /k must be a whole number >= 1/);
});
