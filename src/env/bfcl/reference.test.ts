import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChatMessage } from "../../core/messages.js";
import { BFCL_CATEGORIES } from "./data.js";
import { BFCL_FUNCTIONS_UPDATED, BfclEnvironment } from "./environment.js";
import { BFCL_REFERENCE_CANNOT, BFCL_REFERENCE_DONE } from "./reference.js";

const env = new BfclEnvironment();
const reference = async (taskId: string) => (await env.referenceSolution(taskId))!;
const assistants = (messages: ChatMessage[]) => messages.filter((m) => m.role === "assistant");

test("reference solutions replay to success in every category, observation for observation", async () => {
  for (const category of BFCL_CATEGORIES) {
    for (const n of [0, 2, 7, 35, 61]) {
      const taskId = `multi_turn_${category}_${n}`;
      const messages = await reference(taskId);
      const instance = await env.create(taskId);
      assert.deepEqual(messages.slice(0, instance.initial.messages.length), instance.initial.messages);
      // Stepping with the assistant messages gives back exactly the messages between them: a rollout's record.
      let at = instance.initial.messages.length;
      let done = false;
      while (at < messages.length) {
        assert.equal(messages[at].role, "assistant", `${taskId} message ${at}`);
        const result = await instance.step(messages[at]);
        const next = messages.findIndex((m, i) => i > at && m.role === "assistant");
        const end = next < 0 ? messages.length : next;
        assert.deepEqual(result.observations, messages.slice(at + 1, end), `${taskId} after message ${at}`);
        at = end;
        done = result.done;
      }
      assert.equal(done, true, taskId);
      const evaluation = await instance.evaluate();
      assert.equal(evaluation.success, true, `${taskId}: ${JSON.stringify(evaluation.details.error)}`);
      assert.equal(evaluation.score, 1);
    }
  }
});

test("a call waits for the result it copies a value from; independent calls share one message", async () => {
  // Turn 0 of multi_turn_base_147: the tweet quotes the price that get_stock_info returns.
  const tweet = assistants(await reference("multi_turn_base_147"));
  assert.deepEqual(tweet.slice(0, 3).map((m) => m.tool_calls?.map((c) => c.function.name) ?? m.content), [["get_stock_info"], ["post_tweet"], BFCL_REFERENCE_DONE]);
  assert.match(tweet[1].tool_calls![0].function.arguments, /\$457\.23 per share/);
  // Turn 0 of multi_turn_base_0: cd, mkdir, mv need nothing from each other's results.
  const files = assistants(await reference("multi_turn_base_0"));
  assert.deepEqual(files[0].tool_calls!.map((c) => [c.id, c.function.name, c.function.arguments]), [
    ["ref_0_0_0", "cd", '{"folder": "document"}'],
    ["ref_0_0_1", "mkdir", '{"dir_name": "temp"}'],
    ["ref_0_0_2", "mv", '{"source": "final_report.pdf", "destination": "temp"}'],
  ]);
});

test("arguments keep Python floats and name positional arguments", async () => {
  // multi_turn_base_90 starts with liter_to_gallon(liter=150.0); multi_turn_base_0 later calls sort('final_report.pdf').
  const fuel = assistants(await reference("multi_turn_base_90"));
  assert.equal(fuel[0].tool_calls![0].function.arguments, '{"liter": 150.0}');
  const sorted = assistants(await reference("multi_turn_base_0")).flatMap((m) => m.tool_calls ?? []).find((c) => c.function.name === "sort");
  assert.equal(sorted?.function.arguments, '{"file_name": "final_report.pdf"}');
});

test("turns without ground-truth calls are declined; miss_func's functions return with BFCL's notice", async () => {
  // multi_turn_miss_func_2 holds back cp and cat until turn 4, whose question is empty; turn 3 cannot be done.
  const messages = await reference("multi_turn_miss_func_2");
  const notice = messages.findIndex((m) => m.role === "user" && m.content === BFCL_FUNCTIONS_UPDATED);
  assert.ok(notice > 0);
  assert.deepEqual(messages[notice - 1], { role: "assistant", content: BFCL_REFERENCE_CANNOT });
  assert.equal(messages[notice + 1].tool_calls?.[0].function.name, "cp");
});

test("an entry with more ground-truth turns than questions has no reference", async () => {
  assert.equal(await env.referenceSolution("multi_turn_base_154"), undefined);
  await assert.rejects(env.referenceSolution("multi_turn_base_9999"), /no task/);
});
