// The behaviour every Environment must have, as one suite that each implementation runs (Hono's runTest): built-in
// environments directly, and the same ones through the environment service and RemoteEnvironment.
//
//   describe("my env", () => runEnvironmentContract("my-env", () => createEnvironment("my-env")));
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage } from "../../core/messages.js";
import { EnvProfile, Evaluation, InitialState, StepResult, Split, environmentCapabilities, type Environment } from "../types.js";

export interface ContractOptions {
  /** The task to run; default: the first task of the first non-empty split. */
  taskId?: string;
}

export function runEnvironmentContract(name: string, makeEnv: () => Environment | Promise<Environment>, options: ContractOptions = {}): void {
  describe(`environment contract: ${name}`, () => {
    let env: Environment;
    let taskId: string;

    before(async () => {
      env = await makeEnv();
      taskId = options.taskId ?? (await firstTask(env));
    });
    after(async () => {
      await env?.close?.();
    });

    test("lists the tasks of every split as distinct strings", async () => {
      let total = 0;
      for (const split of Split.options) {
        const tasks = await env.listTasks(split);
        assert.ok(Array.isArray(tasks), `listTasks(${split}) is not an array`);
        for (const task of tasks) assert.equal(typeof task, "string");
        assert.equal(new Set(tasks).size, tasks.length, `listTasks(${split}) repeats a task`);
        total += tasks.length;
      }
      assert.ok(total > 0, "no split has any task");
    });

    test("has a profile for self-questioning", async () => {
      const profile = EnvProfile.parse(await env.profile());
      assert.ok(profile.name.length > 0);
    });

    test("create gives the task's first prompt and its tools, the same each time", async () => {
      const [first, second] = await Promise.all([env.create(taskId), env.create(taskId)]);
      try {
        const initial = InitialState.parse(first.initial);
        assert.equal(first.taskId, taskId);
        assert.ok(initial.messages.some((m) => m.role === "user"), "the first prompt has no user message");
        const toolNames = initial.tools.map((t) => t.function.name);
        assert.equal(new Set(toolNames).size, toolNames.length, "two tools share a name");
        assert.deepEqual(second.initial.messages, first.initial.messages);
        assert.deepEqual(second.initial.tools, first.initial.tools);
      } finally {
        await Promise.all([first.release(), second.release()]);
      }
    });

    test("a bad tool call is an observation, not an exception; evaluate scores in [0, 1] and is a read", async () => {
      const instance = await env.create(taskId);
      try {
        const hasTools = instance.initial.tools.length > 0;
        const textActions = env.actionFormat === "text";
        // An environment that reads text gets the same two bad calls written as text (Qwen <tool_call> blocks).
        const badCalls: ChatMessage = textActions
          ? {
              role: "assistant",
              content: '<tool_call>\n{"name": "no_such_function_in_any_env", "arguments": {}}\n</tool_call>\n<tool_call>\n{not json\n</tool_call>',
            }
          : {
              role: "assistant",
              content: "",
              tool_calls: [
                { id: "call_unknown", type: "function", function: { name: "no_such_function_in_any_env", arguments: "{}" } },
                { id: "call_badjson", type: "function", function: { name: instance.initial.tools[0]?.function.name ?? "x", arguments: "{not json" } },
              ],
            };
        const { stepRewards } = await environmentCapabilities(env);
        let result = StepResult.parse(await instance.step(badCalls));
        // A claimed capability holds: the rule judge trusts that every step says whether it was right.
        if (stepRewards) assert.equal(typeof result.reward, "number", "stepRewards is claimed, but a step reported no reward");
        if (textActions) {
          assert.ok(result.observations.length > 0 || result.done, "a text action got no observation and did not end the episode");
        } else if (hasTools) {
          const answered = result.observations.filter((m) => m.role === "tool").map((m) => m.tool_call_id);
          assert.ok(answered.includes("call_unknown"), `no tool observation answers the unknown function (got ${JSON.stringify(result.observations)})`);
          assert.ok(answered.includes("call_badjson"), "no tool observation answers the call with malformed arguments");
        }
        if (!result.done) {
          result = StepResult.parse(await instance.step({ role: "assistant", content: "I am done." }));
          if (stepRewards) assert.equal(typeof result.reward, "number", "stepRewards is claimed, but a step reported no reward");
        }

        const evaluation = Evaluation.parse(await instance.evaluate());
        assert.ok(evaluation.score >= 0 && evaluation.score <= 1, `score ${evaluation.score} is outside [0, 1]`);
        assert.equal(typeof evaluation.success, "boolean");
        if (evaluation.success) assert.equal(evaluation.score, 1, "success with a score below 1");
        assert.deepEqual(await instance.evaluate(), evaluation, "evaluating twice gave two answers");
      } finally {
        await instance.release();
      }
    });

    test("an unknown task id is an EvolverError naming it", async () => {
      const unknown = "no-such-task-7f3a";
      await assert.rejects(env.create(unknown), (error: unknown) => {
        assert.ok(EvolverError.isInstance(error), `not an EvolverError: ${String(error)}`);
        assert.match(error.message, new RegExp(unknown));
        return true;
      });
    });
  });
}

async function firstTask(env: Environment): Promise<string> {
  for (const split of Split.options) {
    const [task] = await env.listTasks(split);
    if (task !== undefined) return task;
  }
  throw new Error(`environment ${env.name} lists no task in any split`);
}
