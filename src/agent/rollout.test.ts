import { test } from "node:test";
import assert from "node:assert/strict";
import { EvolverError } from "../core/errors.js";
import { KeyChainEnvironment } from "../env/index.js";
import { createContextStrategy } from "./context/index.js";
import { runRollout } from "./rollout.js";
import { rolloutError } from "./trajectory.js";
import { CounterEnvironment } from "./test-support/counter-env.js";
import { scriptedProvider } from "./test-support/scripted-provider.js";
import { createToolFormat } from "./tool-formats.js";

test("rollout on key-chain: a provider that knows the secret opens every lock", async () => {
  const env = new KeyChainEnvironment({ length: 3, symbols: 8, seed: 7 });
  const provider = scriptedProvider((request) => `<think>digit lookup</think>${env.secret[Number(request.messages.at(-1)!.content)]}`);
  const trajectory = await runRollout({ env, taskId: "kc-012", model: { kind: "chat", provider }, groupKey: "g", sampleIndex: 2 });
  assert.equal(trajectory.termination, "done");
  assert.equal(trajectory.success, true);
  assert.equal(trajectory.reward, 1);
  assert.deepEqual(trajectory.messages.filter((m) => m.role !== "system").map((m) => m.role), ["user", "assistant", "user", "assistant", "user", "assistant"]);
  assert.equal(trajectory.steps.length, 3);
  assert.deepEqual(trajectory.steps.map((s) => s.reward), [1, 1, 1]);
  assert.equal(trajectory.steps[0].action.content, env.secret[0]); // thinking kept apart from the action
  assert.equal(trajectory.steps[0].action.reasoning_content, "digit lookup");
  assert.deepEqual(trajectory.segments, []); // the provider gave no token ids
  assert.equal(trajectory.metrics.modelCalls, 3);
  assert.deepEqual([trajectory.groupKey, trajectory.sampleIndex, trajectory.envType, trajectory.model], ["g", 2, "key-chain", "scripted:test"]);
  assert.deepEqual(trajectory.evaluation, { turns: [{ passed: true }, { passed: true }, { passed: true }] });
});

test("rollout with Hermes text calls: tools are described in the prompt, a botched call is an error observation", async () => {
  const env = new CounterEnvironment();
  const provider = scriptedProvider((_, call) =>
    [
      '<tool_call>{"name": "add", "arguments": {"k": 2}</tool_call>', // missing brace
      '<tool_call>{"name": "add", "arguments": {"k": 2}}</tool_call>\n<tool_call>{"name": "add", "arguments": {"k": 1}}</tool_call>',
      '<tool_call>{"name": "finish", "arguments": {}}</tool_call>',
    ][call],
  );
  const trajectory = await runRollout({ env, taskId: "train-reach-3", model: { kind: "chat", provider }, toolFormat: createToolFormat("hermes") });
  assert.equal(trajectory.success, true);
  assert.equal(trajectory.metrics.parseErrors, 1);
  // The first action never reached the environment; the model was told why.
  assert.equal(env.actions.length, 2);
  assert.match(trajectory.steps[0].observations[0].content, /^Error: could not parse tool call: invalid JSON in <tool_call>/);
  assert.equal(trajectory.steps[0].observations[0].role, "tool");
  // Raw formats: no `tools` in the request, tool list in the system prompt, results shown as text.
  const second = provider.requests[1];
  assert.equal(second.tools, undefined);
  assert.match(second.messages[0].content, /^You operate a counter\.\n\n# Tools[\s\S]*"name":"add"/);
  assert.equal(second.messages.at(-1)!.role, "user");
  assert.match(second.messages.at(-1)!.content, /^<tool_response>\nError: could not parse tool call/);
  assert.equal(provider.requests[2].messages.at(-1)!.content, "<tool_response>\ncounter=2\n</tool_response>\n<tool_response>\ncounter=3\n</tool_response>");
  assert.equal(env.released, 1);
});

test("rollout with native calls: tools go in the request; a call with bad arguments is answered by its id", async () => {
  const env = new CounterEnvironment();
  const call = (id: string, name: string, args: string) => ({ id, type: "function" as const, function: { name, arguments: args } });
  const provider = scriptedProvider((_, n) => ({
    message: {
      role: "assistant",
      content: "",
      tool_calls: [[call("a", "add", '{"k": 1'), call("b", "finish", "{}")], [call("c", "add", '{"k": 1}'), call("d", "finish", "{}")]][n],
    },
  }));
  const trajectory = await runRollout({ env, taskId: "train-reach-1", model: { kind: "chat", provider } });
  assert.equal(trajectory.success, true);
  assert.equal(provider.requests[0].tools?.length, 2);
  const [bad, refused] = trajectory.steps[0].observations;
  assert.equal(bad.tool_call_id, "a");
  assert.match(bad.content, /^Error: could not parse tool call: add: arguments are not valid JSON/);
  assert.equal(refused.tool_call_id, "b");
  assert.match(refused.content, /^Error: not executed, because another call/);
  assert.equal(env.actions.length, 1); // only the second, well-formed action reached the environment
});

test("rollout: a model call that hangs times out, a failing one is an error; both are recorded, the env evaluated", async () => {
  const env = new CounterEnvironment();
  const hanging = scriptedProvider(() => new Promise(() => {}));
  const timedOut = await runRollout({ env, taskId: "train-reach-1", model: { kind: "chat", provider: hanging }, callTimeoutMs: 50 });
  assert.equal(timedOut.termination, "timeout");
  assert.match(timedOut.error!, /timed out after 50 ms/);
  assert.equal(timedOut.success, false);
  const failing = scriptedProvider(() => Promise.reject(new Error("HTTP 500 from server")));
  const failed = await runRollout({ env, taskId: "train-reach-1", model: { kind: "chat", provider: failing } });
  assert.equal(failed.termination, "error");
  assert.match(failed.error!, /model call 0 failed: HTTP 500 from server/);
  assert.equal(env.released, 2);
  await assert.rejects(runRollout({ env, taskId: "nonsense", model: { kind: "chat", provider: failing } }), /no task 'nonsense'/);
});

test("rollout: the backend's context overflow and timeout are endings, not infrastructure errors", async () => {
  const env = new CounterEnvironment();
  const overflow = scriptedProvider(() => Promise.reject(new EvolverError("LLM_CONTEXT_OVERFLOW", "the prompt has 9000 tokens; the context holds 2048")));
  const full = await runRollout({ env, taskId: "train-reach-1", model: { kind: "chat", provider: overflow } });
  assert.equal(full.termination, "context_limit");
  assert.match(full.error!, /context holds 2048/);
  // The model never acted: an error, not a result.
  assert.match(rolloutError(full)!, /LLM_CONTEXT_OVERFLOW: the prompt has 9000 tokens/);
  const slow = scriptedProvider(() => Promise.reject(new EvolverError("LLM_TIMEOUT", "no answer within 120000 ms")));
  const timedOut = await runRollout({ env, taskId: "train-reach-1", model: { kind: "chat", provider: slow } });
  assert.equal(timedOut.termination, "timeout");
  assert.match(rolloutError(timedOut)!, /LLM_TIMEOUT/);
});

test("rollout: step budget and chat context limit end the episode", async () => {
  const env = new CounterEnvironment();
  const talker = scriptedProvider(() => "I am thinking about it.");
  const limited = await runRollout({ env, taskId: "train-reach-1", model: { kind: "chat", provider: talker }, maxSteps: 3 });
  assert.equal(limited.termination, "max_steps");
  assert.equal(limited.steps.length, 3);
  const small = await runRollout({ env, taskId: "train-reach-1", model: { kind: "chat", provider: talker }, contextLimitTokens: 10 });
  assert.equal(small.termination, "context_limit");
  assert.equal(small.steps.length, 1);
  // Both acted before their budget ran out: results (failed ones), not errors.
  assert.equal(rolloutError(limited), undefined);
  assert.equal(rolloutError(small), undefined);
});

test("rollout: the experience hook puts its text before the first user message and marks the trajectory", async () => {
  const env = new CounterEnvironment();
  const provider = scriptedProvider(() => ({ message: { role: "assistant", content: "", tool_calls: [{ id: "x", type: "function", function: { name: "finish", arguments: "{}" } }] } }));
  const seen: number[] = [];
  const guided = await runRollout({
    env,
    taskId: "train-reach-1",
    model: { kind: "chat", provider },
    sampleIndex: 5,
    experience: ({ sampleIndex }) => (seen.push(sampleIndex), "Experience: add first, then finish."),
  });
  assert.deepEqual(seen, [5]);
  assert.equal(guided.experienceGuided, true);
  assert.deepEqual(provider.requests[0].messages.map((m) => m.content.slice(0, 11)), ["You operate", "Experience:", "Make the co"]);
  const unguided = await runRollout({ env, taskId: "train-reach-1", model: { kind: "chat", provider }, experience: () => undefined });
  assert.equal(unguided.experienceGuided, false);
});

test("rollout with self-context-clip: drop tags are kept in the record and honoured in later prompts", async () => {
  const env = new CounterEnvironment();
  const provider = scriptedProvider((_, n) =>
    [
      '<tool_call>{"name": "add", "arguments": {"k": 1}}</tool_call>',
      '<drop ids="3"/><tool_call>{"name": "finish", "arguments": {}}</tool_call>',
    ][n],
  );
  const trajectory = await runRollout({
    env,
    taskId: "train-reach-1",
    model: { kind: "chat", provider },
    toolFormat: createToolFormat("hermes"),
    context: createContextStrategy("self-context-clip"),
  });
  assert.equal(trajectory.success, true);
  assert.equal(trajectory.messages[4].content, '<drop ids="3"/>');
  assert.equal(trajectory.contextStrategy, "self-context-clip");
  assert.equal(provider.requests[1].messages[3].content, "<tool_response>\n[#3] counter=1\n</tool_response>");
});

test("rollout: an experience for a later turn follows that turn's tool results (a chat API wants them right after the call)", async () => {
  const env = new CounterEnvironment();
  const provider = scriptedProvider((_, n) => ({
    message: { role: "assistant", content: "", tool_calls: [{ id: `c${n}`, type: "function", function: { name: n === 0 ? "add" : "finish", arguments: n === 0 ? '{"k": 1}' : "{}" } }] },
  }));
  const steps: number[] = [];
  await runRollout({ env, taskId: "train-reach-1", model: { kind: "chat", provider }, experience: ({ step }) => (steps.push(step), `Experience for step ${step}.`) });
  assert.deepEqual(steps, [0, 1]);
  const second = provider.requests[1].messages;
  assert.deepEqual(second.slice(-3).map((m) => [m.role, m.content.slice(0, 10)]), [["assistant", ""], ["tool", second[second.length - 2].content.slice(0, 10)], ["user", "Experience"]]);
  assert.equal(second[second.length - 1].content, "Experience for step 1.");
});
