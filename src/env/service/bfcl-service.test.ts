// BFCL v3 through the environment service: a ground-truth episode gives the same observations directly and
// remotely, and they match the results BFCL's own executor recorded (shared/data/bfcl-v3/vectors). This file
// requires the `bfcl-v3` built-in; until it is registered the first test fails and says so.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { ChatMessage } from "../../core/messages.js";
import { registerBuiltinEnvironments } from "../builtins.js";
import { createEnvironment, knownEnvironments } from "../registry.js";
import { Evaluation, type Environment } from "../types.js";
import { RemoteEnvironment } from "./client.js";
import { startEnvService, type EnvService } from "./server.js";

registerBuiltinEnvironments();
const registered = knownEnvironments().includes("bfcl-v3");
const data = new URL("../../../../shared/data/bfcl-v3/", import.meta.url);
const firstLine = (file: string) => JSON.parse(readFileSync(new URL(file, data), "utf8").split("\n", 1)[0]);

// multi_turn_base_0, turn 1 of possible_answer: cd(folder='document'), mkdir(dir_name='temp'),
// mv(source='final_report.pdf', destination='temp'), written as OpenAI tool calls.
const taskId = "multi_turn_base_0";
const groundTruthCalls: ChatMessage = {
  role: "assistant",
  content: "",
  tool_calls: [
    { id: "gt_0", type: "function", function: { name: "cd", arguments: '{"folder": "document"}' } },
    { id: "gt_1", type: "function", function: { name: "mkdir", arguments: '{"dir_name": "temp"}' } },
    { id: "gt_2", type: "function", function: { name: "mv", arguments: '{"source": "final_report.pdf", "destination": "temp"}' } },
  ],
};

test("bfcl-v3 is a registered environment type", () => {
  assert.ok(registered, `bfcl-v3 is not registered yet; known: ${knownEnvironments().join(", ")}`);
});

async function groundTruthEpisode(env: Environment) {
  const tasks = [...(await env.listTasks("train")), ...(await env.listTasks("val")), ...(await env.listTasks("test"))];
  assert.ok(tasks.includes(taskId), `${taskId} is in no split`);
  const instance = await env.create(taskId);
  try {
    const toolNames = instance.initial.tools.map((t) => t.function.name);
    for (const name of ["cd", "mkdir", "mv"]) assert.ok(toolNames.includes(name), `no tool ${name}`);
    const afterCalls = await instance.step(groundTruthCalls);
    const endTurn = await instance.step({ role: "assistant", content: "Moved it." });
    const evaluation = Evaluation.parse(await instance.evaluate());
    // `initial.info` is left out: the service adds instance_id and task_id to it.
    return { messages: instance.initial.messages, tools: instance.initial.tools, afterCalls, endTurn, evaluation };
  } finally {
    await instance.release();
  }
}

describe("bfcl-v3 directly and through the service", { skip: !registered && "bfcl-v3 is not registered (see the test above)" }, () => {
  let service: EnvService;
  before(async () => {
    service = await startEnvService({ port: 0 });
  });
  after(() => service.close());

  test("a ground-truth turn gives BFCL's recorded results, the same directly and remotely", async () => {
    const direct = await createEnvironment("bfcl-v3");
    const remote = new RemoteEnvironment({ url: service.url, envType: "bfcl-v3" });
    try {
      const [local, served] = [await groundTruthEpisode(direct), await groundTruthEpisode(remote)];
      assert.deepEqual(served, local);

      const vector = firstLine("vectors/multi_turn_base.vectors.jsonl");
      assert.equal(vector.id, taskId);
      const expected = vector.turns[0].calls.map((c: { result: string }) => c.result);
      const answers = local.afterCalls.observations.filter((m) => m.role === "tool");
      assert.deepEqual(answers.map((m) => m.tool_call_id), ["gt_0", "gt_1", "gt_2"]);
      assert.deepEqual(answers.map((m) => m.content), expected);
      assert.equal(local.afterCalls.done, false);

      // Ending the turn brings the task's second user turn.
      const question = firstLine("BFCL_v3_multi_turn_base.json");
      const nextUser = local.endTurn.observations.filter((m) => m.role === "user").map((m) => m.content);
      assert.deepEqual(nextUser, [question.question[1][0].content]);
      assert.ok(local.evaluation.score >= 0 && local.evaluation.score <= 1);
    } finally {
      await direct.close?.();
      await remote.close();
    }
  });
});
