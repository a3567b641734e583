// The rule extractor on the two kinds of environment it serves: key-chain, whose steps report rewards, and BFCL,
// whose tool results report errors. Real rollouts (a scripted chat model answers), real environments.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runRollout } from "../../agent/index.js";
import { KeyChainEnvironment } from "../../env/index.js";
import { BfclEnvironment, loadBfclGroundTruth, parseBfclCallsAsJson } from "../../env/bfcl/index.js";
import { ScriptedProvider, type ScriptedReply } from "../../llm/index.js";
import { extractByRule, RULE_EXTRACTOR_ID } from "./rule-extractor.js";
import { renderExperiences } from "./template.js";

test("key-chain: the right letter where a sibling answered wrong (success); letters that all failed (failure)", async () => {
  const env = new KeyChainEnvironment({ length: 2, symbols: 4 });
  const [a, b] = [env.secret[2], env.secret[3]];
  const wrongA = env.secret.find((l) => l !== a)!;
  const wrongB = env.secret.filter((l) => l !== b);
  const play = (answers: string[], i: number) =>
    runRollout({ env, taskId: "kc-23", model: { kind: "chat", provider: new ScriptedProvider(answers) }, maxSteps: 2, id: `t${i}`, sampleIndex: i });
  const group = await Promise.all([play([a, wrongB[0]], 0), play([wrongA, wrongB[1]], 1)]);
  const experiences = extractByRule(group);
  assert.deepEqual(
    experiences.map((e) => [e.whenToUse, e.content, e.origin]),
    [
      ["you are told: 2", `answer "${a}"; "${wrongA}" did not work.`, "success"],
      ["you are told: 3", `"${wrongB[0]}", "${wrongB[1]}" did not work; try another answer.`, "failure"],
    ],
  );
  assert.ok(experiences.every((e) => e.extractor === RULE_EXTRACTOR_ID && e.sourceTasks.join() === "kc-23"));
  // A group whose attempts all did the same has nothing to teach.
  assert.deepEqual(extractByRule(await Promise.all([play([a, b], 0), play([a, b], 1)])), []);
});

test("bfcl: the call that worked where a sibling's call came back as an error, with the error", async () => {
  const env = new BfclEnvironment();
  const taskId = "multi_turn_base_2";
  const truth = loadBfclGroundTruth("base").get(taskId)!;
  const calls = parseBfclCallsAsJson(`[${truth[0].join(", ")}]`);
  const play = (reply: ScriptedReply, i: number) =>
    runRollout({ env, taskId, model: { kind: "chat", provider: new ScriptedProvider([reply, "Done."]) }, maxSteps: 1, id: `b${i}`, sampleIndex: i });
  const right = await play({ toolCalls: calls.map((c) => ({ name: c.name, arguments: c.arguments })) }, 0);
  const wrong = await play({ toolCalls: [{ name: "cd", arguments: { folder: "no_such_folder" } }] }, 1);
  assert.match(wrong.steps[0].observations[0].content, /error/i);
  const [experience, ...rest] = extractByRule([right, wrong]);
  assert.equal(rest.length, 0);
  assert.equal(experience.origin, "success");
  assert.match(experience.whenToUse, /TeamNotes\.txt/); // the task's own first user message
  assert.match(experience.content, new RegExp(`^answer "${calls[0].name}\\(`));
  assert.match(experience.content, /"cd\(\{\\"folder\\":\\"no_such_folder\\"\}\)" did not work \(it failed with: \{"error": /);
  assert.deepEqual(experience.sourceTrajectories, ["b0", "b1"]);
  // What a later rollout reads.
  assert.match(renderExperiences([experience]), /^Experience from earlier attempts at similar tasks \(use what applies\):\n1\. When you are told: /);
});
