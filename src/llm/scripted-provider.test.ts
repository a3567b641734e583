import { test } from "node:test";
import assert from "node:assert/strict";
import { ScriptedProvider } from "./scripted-provider.js";

test("scripted replies come in order, record the requests, and run out with a code", async () => {
  const provider = new ScriptedProvider(["first", { toolCalls: [{ name: "cd", arguments: { folder: "a" } }] }, (request) => `echo ${request.messages[0].content}`]);
  const ask = (content: string) => provider.chat({ messages: [{ role: "user", content }] });
  assert.equal((await ask("a")).message.content, "first");
  const call = await ask("b");
  assert.equal(call.finishReason, "tool_calls");
  assert.equal(call.message.tool_calls?.[0].function.arguments, '{"folder":"a"}');
  assert.equal((await ask("c")).message.content, "echo c");
  assert.deepEqual(provider.requests.map((r) => r.messages[0].content), ["a", "b", "c"]);
  await assert.rejects(ask("d"), { code: "LLM_SCRIPT_EXHAUSTED" });
  const looping = new ScriptedProvider(["x"], { loop: true });
  await looping.chat({ messages: [] });
  assert.equal((await looping.chat({ messages: [] })).message.content, "x");
});
