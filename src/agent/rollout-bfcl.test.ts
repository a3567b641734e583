// Rollouts against the real BFCL v3 environment: a scripted provider that replays an entry's ground truth, one
// message of calls per turn followed by a short reply that ends the turn, must be graded a success, in BFCL's text
// format and with native tool calls. miss_func entries add tools mid-episode. Reads the data shipped in data/bfcl-v3.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BfclEnvironment, loadBfclGroundTruth, parseBfclCallsAsJson } from "../env/index.js";
import type { ChatRequest } from "../llm/index.js";
import { runRollout } from "./rollout.js";
import { scriptedProvider, type ScriptedReply } from "./test-support/scripted-provider.js";
import { createToolFormat } from "./tool-formats.js";

function groundTruthReplies(taskId: string, asText: boolean): ScriptedReply[] {
  const category = taskId.replace(/^multi_turn_/, "").replace(/_\d+$/, "") as "base" | "miss_func";
  const truth = loadBfclGroundTruth(category).get(taskId)!;
  const replies: ScriptedReply[] = [];
  for (const [turn, calls] of truth.entries()) {
    if (calls.length > 0) {
      const text = `[${calls.join(", ")}]`;
      if (asText) replies.push(text);
      else {
        const tool_calls = parseBfclCallsAsJson(text).map((call, i) => ({ id: `t${turn}_${i}`, type: "function" as const, function: call }));
        replies.push({ message: { role: "assistant", content: "", tool_calls } });
      }
    }
    replies.push("Done.");
  }
  return replies;
}

for (const taskId of ["multi_turn_base_1", "multi_turn_miss_func_1"]) {
  test(`BFCL rollout replaying the ground truth of ${taskId} in BFCL text format succeeds`, async () => {
    const env = new BfclEnvironment({ categories: ["base", "miss_func"] });
    const replies = groundTruthReplies(taskId, true);
    const provider = scriptedProvider((_: ChatRequest, call: number) => replies[call]);
    const trajectory = await runRollout({ env, taskId, model: { kind: "chat", provider }, toolFormat: createToolFormat("bfcl"), maxSteps: 40 });
    assert.equal(trajectory.termination, "done", trajectory.error);
    assert.equal(trajectory.success, true, JSON.stringify(trajectory.evaluation).slice(0, 600));
    assert.equal(provider.requests.length, replies.length);
    assert.equal(provider.requests[0].tools, undefined);
    assert.match(provider.requests[0].messages[0].content, /\[func_name1\(param1=value1/);
    const turns = trajectory.evaluation.turns as { passed: boolean }[];
    assert.ok(turns.every((t) => t.passed));
    if (taskId.includes("miss_func")) {
      // The held-out function arrives with a message describing it, since the prompt was already sent.
      const announcement = trajectory.messages.find((m) => m.role === "system" && m.content.startsWith("New tools are available."));
      assert.match(announcement?.content ?? "", /"name": "mv"/);
    }
  });
}

test("BFCL rollout with native tool calls: the new tool list travels with the next request", async () => {
  const env = new BfclEnvironment({ categories: ["miss_func"] });
  const replies = groundTruthReplies("multi_turn_miss_func_1", false);
  const provider = scriptedProvider((_, call) => replies[call]);
  const trajectory = await runRollout({ env, taskId: "multi_turn_miss_func_1", model: { kind: "chat", provider }, maxSteps: 40 });
  assert.equal(trajectory.success, true, JSON.stringify(trajectory.evaluation).slice(0, 600));
  const toolCounts = provider.requests.map((r) => r.tools?.length ?? 0);
  assert.ok(toolCounts[toolCounts.length - 1] === toolCounts[0] + 1, `tool counts ${toolCounts.join(",")}`);
  assert.ok(!trajectory.messages.some((m) => m.content.startsWith("New tools are available.")));
});

test("BFCL rollout: a policy that answers every turn without calls fails and is graded per turn", async () => {
  const env = new BfclEnvironment({ categories: ["base"] });
  const provider = scriptedProvider(() => "I cannot help with that.");
  const trajectory = await runRollout({ env, taskId: "multi_turn_base_1", model: { kind: "chat", provider }, toolFormat: createToolFormat("bfcl") });
  assert.equal(trajectory.termination, "done");
  assert.equal(trajectory.success, false);
  const turns = trajectory.evaluation.turns as { passed: boolean; checked: boolean }[];
  assert.ok(turns.length > 1 && turns.every((t) => !t.passed || !t.checked));
});

// Issue 15, class (a): BFCL decides what an undecodable call means (the whole message fails and its turn ends), so the
// rollout hands such a message to the environment instead of refusing it and letting the model retry in the turn.
test("BFCL rollout: a message whose calls do not all decode ends its turn, natively and in hermes text", async () => {
  const env = new BfclEnvironment({ categories: ["base"] });
  const broken: Record<string, ScriptedReply> = {
    native: {
      message: {
        role: "assistant",
        content: "",
        tool_calls: [
          { id: "a", type: "function", function: { name: "cd", arguments: '{"folder": "documents"}' } },
          { id: "b", type: "function", function: { name: "ls", arguments: '{"a": ' } },
        ],
      },
    },
    hermes: '<tool_call>\n{"name": "cd", "arguments": {"folder": "documents"}}\n</tool_call>\n<tool_call>\n{"name": "ls", "arguments": \n</tool_call>',
  };
  for (const format of ["native", "hermes"] as const) {
    // The broken message, then `pwd()` in the next turn, then replies without calls to the end.
    const pwd: ScriptedReply =
      format === "native"
        ? { message: { role: "assistant", content: "", tool_calls: [{ id: "p", type: "function", function: { name: "pwd", arguments: "{}" } }] } }
        : '<tool_call>\n{"name": "pwd", "arguments": {}}\n</tool_call>';
    const provider = scriptedProvider((_, call) => (call === 0 ? broken[format] : call === 1 ? pwd : "Done."));
    const trajectory = await runRollout({ env, taskId: "multi_turn_base_2", model: { kind: "chat", provider }, toolFormat: createToolFormat(format) });
    assert.equal(trajectory.termination, "done", trajectory.error);
    assert.equal(trajectory.metrics.parseErrors, 1, format);
    const second = provider.requests[1].messages;
    assert.equal(second.at(-1)!.role, "user", `${format}: the broken message ended turn 0, so turn 1's question comes next`);
    assert.doesNotMatch(JSON.stringify(trajectory.steps[0].observations), /current_working_directory/, `${format}: cd did not run`);
    assert.match(JSON.stringify(trajectory.steps[1].observations), /current_working_directory\\": \\"\/simona\\"/, format);
    const [first] = trajectory.evaluation.turns as { passed: boolean; failure?: string }[];
    assert.deepEqual([first.passed, first.failure], [false, "empty_turn_model_response"], format);
  }
});
