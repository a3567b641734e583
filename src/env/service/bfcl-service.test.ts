// BFCL v3 through the environment service: a ground-truth episode gives the same observations directly and
// remotely, and they match the results BFCL's own executor recorded (data/bfcl-v3/vectors). This file
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
const data = new URL("../../../data/bfcl-v3/", import.meta.url);
/** The JSON Lines entry of `taskId` in a data file. */
const entryOf = (file: string) => JSON.parse(readFileSync(new URL(file, data), "utf8").split("\n").find((line) => line.includes(`"${taskId}"`)) ?? "null");

// multi_turn_base_16 (GorillaFileSystem only), turn 1 of possible_answer: cd(folder='research'),
// cp(source='research_notes.txt',destination='archives'), cd(folder='archives'),
// mv(source='research_notes.txt',destination='2024_research_backup.txt'), written as OpenAI tool calls.
const taskId = "multi_turn_base_16";
const call = (id: string, name: string, args: Record<string, string>) => ({ id, type: "function" as const, function: { name, arguments: JSON.stringify(args) } });
const groundTruthCalls: ChatMessage = {
  role: "assistant",
  content: "",
  tool_calls: [
    call("gt_0", "cd", { folder: "research" }),
    call("gt_1", "cp", { source: "research_notes.txt", destination: "archives" }),
    call("gt_2", "cd", { folder: "archives" }),
    call("gt_3", "mv", { source: "research_notes.txt", destination: "2024_research_backup.txt" }),
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
    for (const name of ["cd", "cp", "mv"]) assert.ok(toolNames.includes(name), `no tool ${name}`);
    const afterCalls = await instance.step(groundTruthCalls);
    const endTurn = await instance.step({ role: "assistant", content: "Backed it up." });
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
      // JSON has no undefined: a key set to undefined directly is absent remotely.
      assert.deepEqual(served, JSON.parse(JSON.stringify(local)));

      const vector = entryOf("vectors/multi_turn_base.vectors.jsonl");
      assert.equal(vector.id, taskId);
      const expected = vector.turns[0].calls.map((c: { result: string }) => c.result);
      const answers = local.afterCalls.observations.filter((m) => m.role === "tool");
      assert.deepEqual(answers.map((m) => m.tool_call_id), ["gt_0", "gt_1", "gt_2", "gt_3"]);
      assert.deepEqual(answers.map((m) => m.content), expected);
      assert.equal(local.afterCalls.done, false);

      // Ending the turn brings the task's second user turn.
      const question = entryOf("BFCL_v3_multi_turn_base.json");
      const nextUser = local.endTurn.observations.filter((m) => m.role === "user").map((m) => m.content);
      assert.deepEqual(nextUser, [question.question[1][0].content]);
      assert.ok(local.evaluation.score >= 0 && local.evaluation.score <= 1);
    } finally {
      await direct.close?.();
      await remote.close();
    }
  });
});
