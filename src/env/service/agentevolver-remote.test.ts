// The remote environment against a service that behaves as AgentEvolver's does (test-support/agentevolver-like-
// service.ts): text actions, train/val splits, tools in the prompt, one text observation per step.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { ChatMessage } from "../../core/messages.js";
import { BfclEnvironment } from "../bfcl/environment.js";
import { CounterEnvironment } from "../test-support/counter-environment.js";
import { runEnvironmentContract } from "../test-support/environment-contract.js";
import { RemoteEnvironment } from "./client.js";
import { startAgentEvolverLikeService, type AgentEvolverLikeService } from "./test-support/agentevolver-like-service.js";

describe("remote environment on an AgentEvolver-like service", () => {
  let service: AgentEvolverLikeService;
  before(async () => (service = await startAgentEvolverLikeService(new CounterEnvironment(), "counter")));
  after(async () => service?.close());

  // Explicit options: "counter" is not one of AgentEvolver's type names, so nothing is defaulted.
  runEnvironmentContract("remote → AgentEvolver-like service (counter)", () =>
    new RemoteEnvironment({ url: service.url, envType: "counter", action_format: "text", splits: { test: "val" } }),
  );

  test("splits: ours map to the service's; one it lacks is ENV_UNKNOWN_SPLIT naming those it offers", async () => {
    const mapped = new RemoteEnvironment({ url: service.url, envType: "counter", splits: { test: "val" } });
    assert.deepEqual(await mapped.listTasks("test"), await mapped.listTasks("val"));
    const unmapped = new RemoteEnvironment({ url: service.url, envType: "counter" });
    await assert.rejects(unmapped.listTasks("test"), (error: Error & { code?: string }) => {
      assert.equal(error.code, "ENV_UNKNOWN_SPLIT");
      assert.match(error.message, /has no split 'test'; it offers train, val/);
      assert.match(error.message, /env\.options\.splits/);
      return true;
    });
    assert.deepEqual(await unmapped.offeredSplits(), ["train", "val"]);
  });

  test("a text action is sent as written; the tool results come back as one user message of text", async () => {
    const remote = new RemoteEnvironment({ url: service.url, envType: "counter", action_format: "text" });
    assert.equal(remote.actionFormat, "text");
    const instance = await remote.create("count-to-3");
    assert.deepEqual(instance.initial.tools, []);
    assert.match(instance.initial.messages[0].content, /<tools>\n\{"name":"increment"/);
    const action = 'Adding.\n<tool_call>\n{"name": "increment", "arguments": {"by": 3}}\n</tool_call>';
    const first = await instance.step({ role: "assistant", content: action });
    assert.deepEqual(service.actions.at(-1), { role: "assistant", content: action });
    assert.deepEqual(first.observations, [{ role: "user", content: '<tool_call>\n{"name":"increment","content":{"count":3}}\n</tool_call>\n' }]);
    assert.equal(first.done, false);
    const last = await instance.step({ role: "assistant", content: "It is 3." });
    assert.deepEqual([last.done, last.reward, last.observations[0].content], [true, 1, "[CONVERSATION_COMPLETED]"]);
    assert.deepEqual(await instance.evaluate(), { score: 1, success: true, details: {} });
    await instance.release();
    assert.equal(service.live(), 0);
  });

  test("AgentEvolver's type names default to text actions, test read from val, and a bare profile", async () => {
    const bfcl = new RemoteEnvironment({ url: "http://127.0.0.1:1", envType: "bfcl" });
    assert.equal(bfcl.actionFormat, "text");
    const ours = new RemoteEnvironment({ url: "http://127.0.0.1:1", envType: "bfcl-v3" });
    assert.equal(ours.actionFormat, "tool_calls");
    // AppWorld's own split names: train, dev, test_normal, test_challenge.
    const appworld = await startAgentEvolverLikeService(new CounterEnvironment(), "appworld");
    try {
      const remote = new RemoteEnvironment({ url: appworld.url, envType: "appworld" });
      await assert.rejects(remote.listTasks("test"), /has no split 'test' \(read as the service's 'test_normal'\); it offers train, val/);
    } finally {
      await appworld.close();
    }
    const profile = await new RemoteEnvironment({ url: service.url, envType: "counter" }).profile();
    assert.equal(profile.name, "counter");
    assert.deepEqual(profile.entities, []);
  });
});

describe("a ground-truth BFCL episode as AgentEvolver's BFCL service reads it", () => {
  let service: AgentEvolverLikeService;
  const bfcl = new BfclEnvironment({ categories: ["base"] });
  before(async () => (service = await startAgentEvolverLikeService(bfcl, "bfcl")));
  after(async () => service?.close());

  test("the reference calls written as Qwen <tool_call> text score 1 through RemoteEnvironment", async () => {
    const remote = new RemoteEnvironment({ url: service.url, envType: "bfcl" });
    const [taskId] = await remote.listTasks("train");
    const reference = (await bfcl.referenceSolution(taskId))!;
    const instance = await remote.create(taskId);
    try {
      for (const message of reference.filter((m): m is ChatMessage => m.role === "assistant")) {
        const blocks = (message.tool_calls ?? []).map((c) => `<tool_call>\n{"name": "${c.function.name}", "arguments": ${c.function.arguments}}\n</tool_call>`);
        await instance.step({ role: "assistant", content: [message.content, ...blocks].filter(Boolean).join("\n") });
      }
      assert.equal((await instance.evaluate()).score, 1);
    } finally {
      await instance.release();
    }
  });
});
