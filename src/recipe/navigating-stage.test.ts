// Self-navigating in the loop, on real key-chain rollouts (a scripted chat model answers) and a real SQLite pool:
// what the rule extractor writes and with what provenance, that a second pass over the same iteration (a resumed
// run) adds nothing, which samples of a group are guided and what they read, what evaluation writes (nothing), and
// the retirement of an experience that hurts.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runRollout, type Trajectory } from "../agent/index.js";
import type { ChatMessage } from "../core/messages.js";
import { KeyChainEnvironment } from "../env/index.js";
import { ScriptedProvider } from "../llm/index.js";
import { wordEmbedder } from "../evolve/navigating/test-support/word-embedder.js";
import { SqliteExperiencePool } from "../store/index.js";
import { parseConfig } from "./config.js";
import { openNavigation } from "./navigating-stage.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-navigating-stage-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = new KeyChainEnvironment({ length: 2, symbols: 4 });
const [right0, right1] = [env.secret[0], env.secret[1]];
const wrong = (letter: string) => env.secret.find((l) => l !== letter)!;

function config(pool: string, navigating: Record<string, unknown> = {}) {
  return parseConfig({
    run: { output_dir: dir },
    env: { type: "key-chain", options: { length: 2, symbols: 4 } },
    policy: { base_model: "unused" },
    rollout: { group_size: 4 },
    navigating: { enabled: true, pool, threshold: 0.5, ...navigating },
  });
}

/** One rollout of kc-01 whose answers are scripted; `experience` sees what the hook would inject. */
async function rollout(sampleIndex: number, answers: string[], hook?: Parameters<typeof runRollout>[0]["experience"]): Promise<Trajectory> {
  const provider = new ScriptedProvider(answers);
  return runRollout({ env, taskId: "kc-01", model: { kind: "chat", provider }, groupKey: "group-a", sampleIndex, id: `t${sampleIndex}`, maxSteps: 2, experience: hook });
}

async function group(hook?: Parameters<typeof runRollout>[0]["experience"]): Promise<Trajectory[]> {
  return Promise.all([
    rollout(0, [right0, right1], hook),
    rollout(1, [wrong(right0), wrong(right1)], hook),
    rollout(2, [right0, wrong(right1)], hook),
    rollout(3, [wrong(right0), right1], hook),
  ]);
}

test("learn: the rule extractor writes what worked where a sibling failed, with provenance, once per group", async () => {
  const path = join(dir, "once.db");
  const navigation = (await openNavigation({ config: config(path), runId: "run-a", embedder: wordEmbedder(), log: () => undefined }))!;
  const trajectories = await group();
  assert.deepEqual(trajectories.map((t) => t.success), [true, false, false, false]);
  const metrics = await navigation.learn(0, trajectories);
  assert.equal(metrics["navigating/added"], 2);
  const experiences = navigation.pool.list();
  assert.deepEqual(experiences.map((e) => e.whenToUse), ["you are told: 0", "you are told: 1"]);
  assert.match(experiences[0].content, new RegExp(`^answer "${right0}"; "${wrong(right0)}" did not work`));
  assert.match(experiences[1].content, new RegExp(`^answer "${right1}"`));
  for (const e of experiences) {
    assert.equal(e.origin, "success");
    assert.deepEqual(e.sourceTasks, ["kc-01"]);
    assert.deepEqual([...e.sourceTrajectories].sort(), ["t0", "t1", "t2", "t3"]);
    assert.equal(e.runId, "run-a");
    assert.equal(e.iteration, 0);
  }
  // The same iteration again (a resumed run): nothing added, nothing lost, also through a fresh process's pool.
  assert.equal((await navigation.learn(0, trajectories))["navigating/added"], 0);
  await navigation.close();
  const reopened = (await openNavigation({ config: config(path), runId: "run-a", embedder: wordEmbedder(), log: () => undefined }))!;
  assert.equal((await reopened.learn(0, trajectories))["navigating/added"], 0);
  assert.deepEqual(reopened.pool.list(), experiences);
  await reopened.close();
});

test("retrieval: η of each group is guided with the pool's experiences; evaluation reads and never writes", async () => {
  const path = join(dir, "guided.db");
  const navigation = (await openNavigation({ config: config(path, { eta: 0.5 }), runId: "run-b", embedder: wordEmbedder(), log: () => undefined }))!;
  await navigation.learn(0, await group());
  const injected: (string | undefined)[] = [];
  const hook = navigation.trainHook(1);
  const recording: typeof hook = async (context) => {
    const message = await hook(context);
    if (context.step === 0) injected[context.sampleIndex] = typeof message === "string" ? message : message?.content;
    else assert.equal(message, undefined, "retrieval: episode gives nothing after the first turn");
    return message;
  };
  const second = await group(recording);
  assert.deepEqual(second.map((t) => t.experienceGuided), [true, true, false, false]);
  assert.match(injected[0]!, new RegExp(`When you are told: 0: answer "${right0}"`));
  assert.equal(injected[2], undefined);
  // The injected message sits before the task's first user message and is labelled as the experience.
  const firstUser = second[0].messages.findIndex((m: ChatMessage) => m.role === "user");
  assert.equal(second[0].messages[firstUser].content, injected[0]);
  assert.deepEqual(navigation.pool.retrieval({ runId: "run-b", iteration: 1, groupKey: "group-a", sampleIndex: 0 }), [1]);
  // Evaluation: every sample guided, nothing recorded.
  const before = JSON.stringify([navigation.pool.list({ status: "all" }), navigation.pool.usage()]);
  const evalHook = navigation.evalHook()!;
  assert.ok(await evalHook({ taskId: "kc-01", groupKey: "eval-group", sampleIndex: 5, step: 0, messages: second[2].messages }));
  assert.equal(navigation.pool.retrieval({ runId: "run-b", iteration: 1, groupKey: "eval-group", sampleIndex: 5 }), undefined);
  assert.equal(JSON.stringify([navigation.pool.list({ status: "all" }), navigation.pool.usage()]), before);
  await navigation.close();
});

test("maintenance: an experience whose guided rollouts fail where comparable unguided ones succeed is retired", async () => {
  const path = join(dir, "retire.db");
  const navigation = (await openNavigation({ config: config(path, { eta: 0.5, retire_min_uses: 2, retire_margin: 0.2 }), runId: "run-c", embedder: wordEmbedder(), log: () => undefined }))!;
  await navigation.learn(0, await group());
  // Iteration 1: guided samples (0, 1) answer wrong, unguided ones (2, 3) right.
  const hook = navigation.trainHook(1);
  const provider = (sampleIndex: number) => (sampleIndex < 2 ? [wrong(right0), wrong(right1)] : [right0, right1]);
  const second = await Promise.all([0, 1, 2, 3].map((i) => rollout(i, provider(i), hook)));
  const metrics = await navigation.learn(1, second);
  assert.equal(metrics["navigating/guided"], 2);
  assert.ok(metrics["navigating/retired"] >= 1, JSON.stringify(metrics));
  const retired = navigation.pool.list({ status: "retired" });
  assert.match(retired[0].note!, /guided rollouts succeeded 0\/2, comparable unguided ones 2\/2/);
  // Out of retrieval, kept for provenance.
  const [query] = await navigation.embedder.embed(["you are told: 0"]);
  assert.ok(navigation.pool.search(query, { k: 5, threshold: -1 }).every((s) => s.experience.status === "active" && s.experience.id !== retired[0].id));
  await navigation.close();
});

test("maintenance: a near-duplicate of an active experience is merged into it, not added twice", async () => {
  const path = join(dir, "merge.db");
  const navigation = (await openNavigation({ config: config(path), runId: "run-d", embedder: wordEmbedder(), log: () => undefined }))!;
  await navigation.learn(0, await group());
  // The same group in the next iteration distils the same two experiences.
  const metrics = await navigation.learn(1, await group());
  assert.equal(metrics["navigating/added"], 2);
  assert.equal(metrics["navigating/merged"], 2);
  assert.equal(navigation.pool.list().length, 2);
  assert.deepEqual(navigation.pool.list().map((e) => e.merges), [1, 1]);
  await navigation.close();
});

test("a pool filled by one embedder refuses another", async () => {
  const path = join(dir, "once.db");
  assert.throws(() => SqliteExperiencePool.open(path, { embedder: { id: "use-lite", dimensions: 512 } }), /holds vectors of test:words-64 \(64-d\)/);
});

test("training-free: a group's semantic advantage adds, modifies and deletes experiences, once", async () => {
  const path = join(dir, "semantic.db");
  // Iteration 0 fills the pool through the rule extractor; iteration 1 is updated by the semantic advantage.
  const seeded = (await openNavigation({ config: config(path), runId: "run-e", embedder: wordEmbedder(), log: () => undefined }))!;
  await seeded.learn(0, await group());
  await seeded.close();
  const provider = new ScriptedProvider([
    JSON.stringify({
      edits: [
        { op: "add", when_to_use: "a lock is named by a digit", content: "the same digit always takes the same letter" },
        { op: "modify", id: 1, content: `answer "${right0}" for 0, every time` },
        { op: "delete", id: 2, reason: "misled the agent" },
      ],
    }),
  ]);
  const navigation = (await openNavigation({ config: config(path, { eta: 0.5, k: 2, threshold: -1 }), runId: "run-e", embedder: wordEmbedder(), semantic: provider, log: () => undefined }))!;
  const second = await group(navigation.trainHook(1));
  const metrics = await navigation.learn(1, second);
  assert.deepEqual([metrics["navigating/compared"], metrics["navigating/added"], metrics["navigating/modified"], metrics["navigating/deleted"]], [1, 1, 1, 1]);
  assert.match(provider.requests[0].messages[1].content, /LIBRARY ENTRIES SHOWN:\n\[1\] When you are told: 0/);
  const all = navigation.pool.list({ status: "all" });
  assert.equal(all.find((e) => e.id === 1)!.content, `answer "${right0}" for 0, every time`);
  assert.equal(all.find((e) => e.id === 2)!.status, "deleted");
  assert.deepEqual(all.filter((e) => e.origin === "semantic").map((e) => [e.whenToUse, e.extractor, e.iteration]), [["a lock is named by a digit", "semantic:scripted", 1]]);
  // Again (a resumed run): no call, no edit.
  await navigation.learn(1, second);
  assert.equal(provider.requests.length, 1);
  assert.equal(navigation.pool.list({ status: "all" }).length, all.length);
  await navigation.close();
});

test("maintenance: what worked supersedes an older note of what failed in the same place; not the other way round", async () => {
  const path = join(dir, "supersede.db");
  const navigation = (await openNavigation({ config: config(path), runId: "run-e", embedder: wordEmbedder(), log: () => undefined }))!;
  // Iteration 0: every attempt at lock 0 is wrong (a failure experience), lock 1 is opened by one of them.
  const failing = await Promise.all([0, 1, 2, 3].map((i) => rollout(i, [wrong(right0), i === 0 ? right1 : wrong(right1)])));
  await navigation.learn(0, failing);
  const [failure] = navigation.pool.list().filter((e) => e.whenToUse === "you are told: 0");
  assert.equal(failure.origin, "failure");
  // Iteration 1: a sibling opens lock 0. The success becomes the active experience of "you are told: 0".
  await navigation.learn(1, await group());
  const active = navigation.pool.list().filter((e) => e.whenToUse === "you are told: 0");
  assert.equal(active.length, 1);
  assert.equal(active[0].origin, "success");
  assert.match(active[0].content, new RegExp(`^answer "${right0}"`));
  assert.equal(active[0].merges, 1);
  assert.match(navigation.pool.get(failure.id).note!, new RegExp(`superseded by #${active[0].id}`));
  // Iteration 2: failing again at lock 0 adds a failure note that is merged into the success, which stays.
  await navigation.learn(2, failing);
  assert.deepEqual(navigation.pool.list().filter((e) => e.whenToUse === "you are told: 0").map((e) => e.id), [active[0].id]);
  await navigation.close();
});

test("retrieval per turn: each turn gets the experience of what it was just told, in front of it; the rollout records all", async () => {
  const path = join(dir, "per-turn.db");
  const settings = { eta: 1, k: 2, threshold: -1, retrieval: "turn", min_word_overlap: 1 };
  const navigation = (await openNavigation({ config: config(path, settings), runId: "run-f", embedder: wordEmbedder(), log: () => undefined }))!;
  await navigation.learn(0, await group());
  const ids = new Map(navigation.pool.list().map((e) => [e.whenToUse, e.id]));
  const [guided] = await Promise.all([rollout(0, [right0, right1], navigation.trainHook(1))]);
  const shown = guided.messages.map((m) => m.content.split("\n").slice(1).join(" | ") || m.content);
  // Lock 0's experience before "0", lock 1's after the first answer and before "1"; the guard kept the other out.
  assert.deepEqual(shown.slice(1), [
    `1. When you are told: 0: answer "${right0}"; "${wrong(right0)}" did not work.`,
    "0",
    right0,
    `1. When you are told: 1: answer "${right1}"; "${wrong(right1)}" did not work.`,
    "1",
    right1,
  ]);
  assert.equal(guided.experienceGuided, true);
  assert.deepEqual(navigation.pool.retrieval({ runId: "run-f", iteration: 1, groupKey: "group-a", sampleIndex: 0 }), [ids.get("you are told: 0"), ids.get("you are told: 1")]);
  await navigation.close();

  // retrieval: episode gives one, at the start; without the word guard the other lock's experience comes with it.
  const episode = (await openNavigation({ config: config(path, { ...settings, retrieval: "episode", min_word_overlap: 0 }), runId: "run-f", embedder: wordEmbedder(), log: () => undefined }))!;
  const once = await rollout(1, [right0, right1], episode.trainHook(2));
  assert.equal(once.messages.filter((m) => m.content.startsWith("Experience from earlier")).length, 1);
  assert.match(once.messages[1].content, /When you are told: 0: .*\n2\. When you are told: 1: /);
  await episode.close();
});

test("rule_successes every: a step every attempt got right is remembered too; contrast (the default) keeps only contrasts", async () => {
  // Every attempt opens lock 0; lock 1 is opened by one.
  const trajectories = await Promise.all([0, 1, 2, 3].map((i) => rollout(i, [right0, i === 0 ? right1 : wrong(right1)])));
  const written = async (name: string, rule_successes?: string) => {
    const navigation = (await openNavigation({ config: config(join(dir, name), rule_successes ? { rule_successes } : {}), runId: "run-g", embedder: wordEmbedder(), log: () => undefined }))!;
    await navigation.learn(0, trajectories);
    const list = navigation.pool.list().map((e) => [e.whenToUse, e.content, e.origin]);
    await navigation.close();
    return list;
  };
  const lock1 = ["you are told: 1", `answer "${right1}"; "${wrong(right1)}" did not work.`, "success"];
  assert.deepEqual(await written("contrast.db"), [lock1]);
  assert.deepEqual(await written("every.db", "every"), [["you are told: 0", `answer "${right0}".`, "success"], lock1]);
});
