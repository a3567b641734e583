import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonlWriter, readJsonl } from "./jsonl.js";
import type { RolloutEvent } from "./rollout-events.js";
import { groupKeyFor, runRollouts } from "./rollout-manager.js";
import { CounterEnvironment } from "./test-support/counter-env.js";
import { scriptedProvider } from "./test-support/scripted-provider.js";
import { Trajectory } from "./trajectory.js";

const finish = { id: "f", type: "function" as const, function: { name: "finish", arguments: "{}" } };
const add = (k: number) => ({ id: `a${k}`, type: "function" as const, function: { name: "add", arguments: JSON.stringify({ k }) } });

/** Solves "reach N" in one step, after `delayMs`. */
function solver(delayMs = 0) {
  let inFlight = 0;
  let maxInFlight = 0;
  const provider = scriptedProvider(async (request) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    inFlight -= 1;
    const target = Number(/reach (\d+)/.exec(request.messages[1].content)![1]);
    return { message: { role: "assistant", content: "", tool_calls: [add(target), finish] } };
  });
  return { provider, maxInFlight: () => maxInFlight };
}

test("group keys: the same task in another batch, or a synthetic sibling with other params, never collides", () => {
  const seed = { taskId: "reach-3" };
  const keys = [
    groupKeyFor("counter", seed, "epoch-0/batch-0"),
    groupKeyFor("counter", seed, "epoch-0/batch-1"),
    groupKeyFor("counter", { taskId: "reach-3", params: { target: 4 } }, "epoch-0/batch-0"),
    groupKeyFor("counter", { taskId: "reach-3", params: { target: 5 } }, "epoch-0/batch-0"),
    groupKeyFor("counter", { taskId: "reach-3", params: { target: 4, note: "x" } }, "epoch-0/batch-0"),
    groupKeyFor("other-env", seed, "epoch-0/batch-0"),
  ];
  assert.equal(new Set(keys).size, keys.length);
  // Key order in params does not matter; the key is stable.
  assert.equal(
    groupKeyFor("counter", { taskId: "t", params: { a: 1, b: { c: 2, d: 3 } } }, "b"),
    groupKeyFor("counter", { taskId: "t", params: { b: { d: 3, c: 2 }, a: 1 } }, "b"),
  );
});

test("rollout manager: n samples per task in groups, at most N in flight, trajectories streamed to JSONL", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-rollouts-"));
  try {
    const env = new CounterEnvironment();
    const { provider, maxInFlight } = solver(20);
    const output = JsonlWriter.open(join(dir, "out", "trajectories.jsonl"));
    const events: RolloutEvent[] = [];
    const tasks = [{ taskId: "reach-1" }, { taskId: "reach-2" }, { taskId: "reach-2", params: { target: 7 } }, { taskId: "reach-2" }];
    const result = await runRollouts({
      env,
      model: { kind: "chat", provider },
      tasks,
      samplesPerTask: 3,
      batchId: "epoch-0/batch-0",
      concurrency: 4,
      onTrajectory: (trajectory) => output.write(trajectory),
      onEvent: (event) => events.push(event),
    });
    await output.close();
    assert.equal(maxInFlight(), 4);
    assert.equal(result.trajectories.length, 12);
    assert.equal(result.groups.length, 4);
    assert.equal(new Set(result.groups.map((g) => g.groupKey)).size, 4); // the repeated task gets its own key
    for (const [i, group] of result.groups.entries()) {
      assert.deepEqual(group.task, tasks[i]);
      assert.deepEqual(group.trajectories.map((t) => t.sampleIndex), [0, 1, 2]);
      assert.ok(group.trajectories.every((t) => t.groupKey === group.groupKey && t.taskId === tasks[i].taskId && t.success));
    }
    assert.deepEqual(result.groups[2].trajectories[0].taskParams, { target: 7 });
    assert.deepEqual({ ...result.stats, elapsedMs: 0 }, { total: 12, done: 12, successes: 12, failed: 0, errored: 0, promptTokens: result.stats.promptTokens, completionTokens: 0, inFlight: 0, elapsedMs: 0 });
    const written = [];
    for await (const t of readJsonl(join(dir, "out", "trajectories.jsonl"), Trajectory)) written.push(t);
    assert.deepEqual(written.map((t) => t.id).sort(), result.trajectories.map((t) => t.id).sort());
    assert.equal(events[0].type, "batch-start");
    assert.equal(events.at(-1)!.type, "batch-end");
    assert.equal(events.filter((e) => e.type === "rollout-end").length, 12);
    assert.equal(events.filter((e) => e.type === "model-call").length, 12);
    assert.ok(events.every((e) => e.stats.inFlight <= 4));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rollout manager: errors are counted apart from failed results and recorded, never fatal", async () => {
  const env = new CounterEnvironment();
  let calls = 0;
  const provider = scriptedProvider(() => {
    calls += 1;
    if (calls % 2 === 0) throw new Error("upstream 503");
    return { message: { role: "assistant", content: "", tool_calls: [add(1), finish] } };
  });
  const result = await runRollouts({
    env,
    model: { kind: "chat", provider },
    tasks: [{ taskId: "reach-1" }, { taskId: "no-such-task" }],
    samplesPerTask: 4,
    batchId: "b",
    concurrency: 1,
  });
  assert.equal(result.stats.done, 8);
  // 4 crashes (the task that cannot be created) and 2 error endings (every second model call fails) are errors;
  // the 2 rollouts that ran are results, and succeed.
  assert.equal(result.stats.errored, 6);
  assert.equal(result.stats.failed, 0);
  assert.equal(result.stats.successes, 2);
  assert.match(result.stats.firstError!, /upstream 503|no task 'no-such-task'/);
  assert.deepEqual(result.groups[1].crashes.map((f) => f.sampleIndex), [0, 1, 2, 3]);
  assert.match(result.crashes[0].error, /no task 'no-such-task'/);
  assert.equal(result.groups[0].trajectories.filter((t) => t.termination === "error").length, 2);
});

test("jsonl: a bad line is named with its file and line number", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evolver-jsonl-"));
  try {
    const writer = JsonlWriter.open(join(dir, "x.jsonl"));
    await Promise.all([writer.write({ a: 1 }), writer.write({ a: 2 })]);
    await writer.close();
    await assert.rejects(writer.write({ a: 3 }), /is closed/);
    const values = [];
    for await (const v of readJsonl(join(dir, "x.jsonl"))) values.push(v);
    assert.deepEqual(values, [{ a: 1 }, { a: 2 }]);
    await assert.rejects(async () => {
      for await (const _ of readJsonl(join(dir, "x.jsonl"), Trajectory)) void _;
    }, /x\.jsonl:1: id: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rollout manager: after an abort no new rollout starts, and those in flight end as errors", async () => {
  const env = new CounterEnvironment();
  const controller = new AbortController();
  const provider = scriptedProvider(async () => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { message: { role: "assistant", content: "", tool_calls: [add(1), finish] } };
  });
  setTimeout(() => controller.abort(new Error("stopped by user")), 10);
  const result = await runRollouts({
    env,
    model: { kind: "chat", provider },
    tasks: [{ taskId: "reach-1" }],
    samplesPerTask: 10,
    batchId: "b",
    concurrency: 2,
    signal: controller.signal,
  });
  assert.equal(env.created, 2);
  assert.equal(result.trajectories.length, 2);
  assert.ok(result.trajectories.every((t) => t.termination === "error" && /stopped by user/.test(t.error!)));
});

test("rollout manager: sample seeds follow the batch seed, group key and index; reused samples are not run again", async () => {
  const env = new CounterEnvironment();
  const seeds: (number | undefined)[][] = [];
  const provider = (log: (number | undefined)[]) =>
    scriptedProvider((request) => {
      log.push(request.seed);
      return { message: { role: "assistant", content: "", tool_calls: [add(1), finish] } };
    });
  const run = async (seed: number, reuse?: (groupKey: string, sampleIndex: number) => Trajectory | undefined) => {
    const log: (number | undefined)[] = [];
    seeds.push(log);
    return runRollouts({ env, model: { kind: "chat", provider: provider(log) }, tasks: [{ taskId: "reach-1" }, { taskId: "reach-2" }], samplesPerTask: 2, batchId: "b", seed, concurrency: 1, reuse });
  };
  const first = await run(5);
  await run(5);
  await run(6);
  assert.deepEqual(seeds[0], seeds[1]);
  assert.equal(new Set(seeds[0]).size, 4, "every sample its own seed");
  assert.notDeepEqual(seeds[0], seeds[2]);

  // A resumed batch: two samples were recorded before; only the other two run, and the result holds all four.
  const recorded = new Map(first.trajectories.slice(0, 2).map((t) => [`${t.groupKey}/${t.sampleIndex}`, t]));
  const created = env.created;
  const resumed = await run(5, (groupKey, sampleIndex) => recorded.get(`${groupKey}/${sampleIndex}`));
  assert.equal(env.created - created, 2);
  assert.deepEqual(resumed.trajectories.map((t) => t.id).slice(0, 2), first.trajectories.slice(0, 2).map((t) => t.id));
  assert.equal(resumed.trajectories.length, 4);
  assert.deepEqual(seeds[3], seeds[0].slice(2));
  // Reused samples count as done, as results: reach-1 is solved by add(1), reach-2 is not.
  assert.deepEqual([resumed.stats.done, resumed.stats.successes, resumed.stats.failed], [4, 2, 2]);
});
