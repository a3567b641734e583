import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChatMessage } from "../../core/messages.js";
import { BfclEnvironment, KeyChainEnvironment, type TaskSpec } from "../../env/index.js";
import { ScriptedProvider } from "../../llm/index.js";
import { hindsightSynthesizer, llmSynthesizer, replaySolution, synthesizeTasks, heldOutSpecs } from "./index.js";
import { fileSystemExplorer } from "./test-support/file-system-explorer.js";

const lastUser = (messages: ChatMessage[]) => [...messages].reverse().find((m) => m.role === "user")!.content;

test("hindsight on key-chain: the locks an exploration opened become tasks, every accepted one replays to success", async () => {
  const env = new KeyChainEnvironment({ length: 3, symbols: 8, seed: 7, train_digits: 3 });
  // The explorer knows the letters of even digits only, and guesses "z" for the rest.
  const explorer = new ScriptedProvider([(request) => {
    const digit = Number(lastUser(request.messages).charAt(0));
    return digit % 2 === 0 ? env.secret[digit] : "z";
  }], { loop: true });
  const report = await synthesizeTasks({
    env, profile: await env.profile(), explorer: { kind: "chat", provider: explorer }, synthesizer: hindsightSynthesizer(),
    perEntity: 24, maxSteps: 3, temperature: 1, seed: 1, round: "r0",
  });
  assert.equal(report.counts.explored, 24);
  const accepted = report.candidates.filter((c) => c.status === "accepted");
  assert.ok(accepted.length > 5, `accepted ${accepted.length}`);
  for (const candidate of accepted) {
    const digits = (candidate.spec.setup as { digits: number[] }).digits;
    assert.ok(digits.every((d) => d % 2 === 0), `only opened locks are kept: ${digits}`);
    assert.deepEqual(await replaySolution(env, candidate.id, candidate.spec), { ok: true });
  }
  // Unseen digits (>= train_digits) are what the pool adds; held-out chains are never in it.
  assert.ok(accepted.some((c) => (c.spec.setup as { digits: number[] }).digits.some((d) => d >= 3)));
  const heldOut = new Set((await heldOutSpecs(env)).map((s) => JSON.stringify(s.setup)));
  assert.ok(accepted.every((c) => !heldOut.has(JSON.stringify(c.spec.setup))));
  assert.equal(report.counts.accepted + report.counts.deduplicated + (report.counts.rejected.held_out ?? 0), report.counts.proposed);
  assert.deepEqual(report.coverage.covered, ["open"]);
});

test("hindsight on key-chain: tasks whose digits differ but whose letters are the same are not duplicates", async () => {
  // Six digits share three letters: the answers alone would make lock 0 and the unseen lock that shares its letter one task.
  const env = new KeyChainEnvironment({ length: 1, symbols: 6, letters: 3, seed: 7 });
  const explorer = new ScriptedProvider([(request) => env.secret[Number(lastUser(request.messages).charAt(0))]], { loop: true });
  const report = await synthesizeTasks({
    env, profile: await env.profile(), explorer: { kind: "chat", provider: explorer }, synthesizer: hindsightSynthesizer(),
    perEntity: 24, maxSteps: 1, temperature: 1, seed: 1, round: "r0",
  });
  const accepted = report.candidates.filter((c) => c.status === "accepted");
  const digits = accepted.map((c) => (c.spec.setup as { digits: number[] }).digits[0]);
  const heldOut = new Set((await heldOutSpecs(env)).map((s) => (s.setup as { digits: number[] }).digits[0]));
  assert.deepEqual([...new Set(digits)].sort(), [0, 1, 2, 3, 4, 5].filter((d) => !heldOut.has(d)));
  assert.ok(new Set(accepted.map((c) => JSON.stringify(c.spec.solution))).size < accepted.length, "some accepted tasks share their answers");
  assert.ok(accepted.every((c) => c.spec.turns[0] === `Open lock ${(c.spec.setup as { digits: number[] }).digits[0]}.`));
});

test("key-chain: a spec creates a task graded by the environment's own checks; a bad spec is named", async () => {
  const env = new KeyChainEnvironment({ length: 3, symbols: 8 });
  const spec: TaskSpec = { turns: ["-"], setup: { digits: [7, 1] }, solution: [[{ text: env.secret[7] }], [{ text: env.secret[1] }]] };
  assert.deepEqual(await replaySolution(env, "syn-a", spec), { ok: true });
  const wrong = { ...spec, solution: [[{ text: env.secret[7] }], [{ text: "z" }]] };
  assert.equal((await replaySolution(env, "syn-b", wrong) as { reason: string }).reason, "checks_failed");
  await assert.rejects(env.create("syn-c", { task: { turns: ["-"], setup: { digits: [9] } } }), /digits must be below 8/);
});

test("hindsight on BFCL: successful calls become turns with template requests; graded by BFCL's checks", async () => {
  const env = new BfclEnvironment({ categories: ["base"] });
  const report = await synthesizeTasks({
    env, profile: await env.profile(), explorer: { kind: "chat", provider: fileSystemExplorer() }, synthesizer: hindsightSynthesizer(),
    entities: ["GorillaFileSystem"], perEntity: 2, maxSteps: 6, temperature: 1, seed: 3, round: "r0", heldOut: [],
  });
  assert.equal(report.counts.explored, 2);
  assert.equal(report.counts.exploreErrors, 0);
  const accepted = report.candidates.filter((c) => c.status === "accepted");
  assert.ok(accepted.length >= 1);
  const spec = accepted[0].spec;
  // The cd to a missing folder erred: it is not part of the goal.
  assert.deepEqual(spec.solution.map((turn) => turn.map((a) => ("name" in a ? a.name : ""))), [["ls"], ["mkdir"]]);
  assert.equal(spec.turns.length, 2);
  assert.equal(spec.turns[1], "Create a folder named 'synthetic_notes'.", "written from the profile's template");
  assert.deepEqual((spec.setup as { involved_classes: string[] }).involved_classes, ["GorillaFileSystem"]);
  for (const c of accepted) assert.deepEqual(await replaySolution(env, c.id, c.spec), { ok: true });
  // The same calls from the same kind of setup are duplicates, not new tasks.
  assert.ok(report.novelty >= 3);
  assert.ok(report.coverage.covered.includes("mkdir") && !report.coverage.covered.includes("cd"));
  // A solution that does not reach the reference state fails BFCL's state check.
  const broken: TaskSpec = { ...spec, solution: [[...spec.solution[0]], [{ name: "mkdir", arguments: { dir_name: "other" } }]] };
  const graded = await env.create("syn-x", { task: broken });
  await graded.step({ role: "assistant", content: "", tool_calls: [{ id: "1", type: "function", function: { name: "ls", arguments: "{}" } }] });
  await graded.step({ role: "assistant", content: "Done." });
  await graded.step({ role: "assistant", content: "", tool_calls: [{ id: "2", type: "function", function: { name: "mkdir", arguments: JSON.stringify({ dir_name: "synthetic_notes" }) } }] });
  await graded.step({ role: "assistant", content: "Done." });
  assert.equal((await graded.evaluate()).success, false);
});

test("LLM synthesis on BFCL (scripted): valid tasks verified; invalid JSON, unknown functions, bad arguments, empty queries dropped and counted", async () => {
  const env = new BfclEnvironment({ categories: ["base"] });
  const answers = [
    "this is not JSON",
    JSON.stringify({
      tasks: [
        { query: "Make a folder called drafts, please.", solution: [{ name: "mkdir", arguments: { dir_name: "drafts" } }], check: "a folder drafts exists" },
        { query: "Launch the rocket.", solution: [{ name: "launch_rocket", arguments: {} }], check: "" },
        { query: "Make a folder.", solution: [{ name: "mkdir", arguments: { dir_name: 42 } }], check: "" },
        { query: "   ", solution: [{ name: "ls", arguments: {} }], check: "" },
        { query: "Go to the folder nowhere_at_all.", solution: [{ name: "cd", arguments: { folder: "nowhere_at_all" } }], check: "" },
      ],
    }),
  ];
  const synthesizer = new ScriptedProvider(answers, { loop: true });
  const report = await synthesizeTasks({
    env, profile: await env.profile(), explorer: { kind: "chat", provider: fileSystemExplorer() },
    synthesizer: llmSynthesizer({ provider: synthesizer, tasksPerExploration: 5 }),
    entities: ["GorillaFileSystem"], perEntity: 2, maxSteps: 6, temperature: 1, seed: 3, round: "r0", heldOut: [],
  });
  assert.equal(synthesizer.requests.length, 2);
  assert.ok(synthesizer.requests[1].jsonSchema, "structured output is asked for");
  assert.ok(synthesizer.requests[1].messages[1].content.includes("mkdir"), "the exploration is shown");
  assert.deepEqual(report.counts.dropped, { invalid_json: 1, unknown_function: 1, bad_arguments: 1, empty_query: 1 });
  assert.equal(report.counts.proposed, 2);
  assert.equal(report.counts.rejected.replay_error, 1);
  assert.equal(report.counts.accepted, 1);
  const [accepted] = report.candidates.filter((c) => c.status === "accepted");
  assert.deepEqual(accepted.spec.turns, ["Make a folder called drafts, please."]);
  assert.equal(accepted.synthesizer, "llm:scripted");
  const rejected = report.candidates.find((c) => c.reason === "replay_error")!;
  assert.match(rejected.detail!, /cd: .*No such directory/);
});
