// Verification: a candidate's reference solution replayed in a fresh instance. It is accepted only if no call errs
// and the task's own checks pass (BFCL: the state and response checks; key-chain: every lock opened).
import type { ChatMessage, ToolCall } from "../../core/messages.js";
import type { Environment, EnvInstance, StepResult, TaskSpec } from "../../env/index.js";
import type { RejectReason } from "./schema.js";

/** What ends a turn whose calls are done, for environments where a reply without calls closes the turn. */
export const REPLAY_TURN_END = "Done.";

export type ReplayVerdict = { ok: true } | { ok: false; reason: Extract<RejectReason, "bad_spec" | "replay_error" | "checks_failed">; detail: string };

export async function replaySolution(env: Environment, taskId: string, spec: TaskSpec): Promise<ReplayVerdict> {
  let instance: EnvInstance;
  try {
    instance = await env.create(taskId, { task: spec });
  } catch (error) {
    return { ok: false, reason: "bad_spec", detail: (error as Error).message };
  }
  try {
    let done = false;
    const step = async (action: ChatMessage): Promise<ReplayVerdict | undefined> => {
      let result: StepResult;
      try {
        result = await instance.step(action);
      } catch (error) {
        return { ok: false, reason: "replay_error", detail: (error as Error).message };
      }
      if (result.errors && result.errors.length > 0) return { ok: false, reason: "replay_error", detail: result.errors.join("; ") };
      done = result.done;
      return undefined;
    };
    for (let turn = 0; turn < spec.solution.length && !done; turn++) {
      const actions = spec.solution[turn];
      let lastWasCall = actions.length === 0;
      for (let i = 0; i < actions.length; i++) {
        if (done) return { ok: false, reason: "checks_failed", detail: `the episode ended before turn ${turn}'s action ${i}` };
        const action = actions[i];
        const message: ChatMessage =
          "name" in action
            ? { role: "assistant", content: "", tool_calls: [{ id: `replay_${turn}_${i}`, type: "function", function: { name: action.name, arguments: JSON.stringify(action.arguments) } } satisfies ToolCall] }
            : { role: "assistant", content: action.text };
        const failed = await step(message);
        if (failed) return failed;
        lastWasCall = "name" in action;
      }
      if (!done && lastWasCall) {
        const failed = await step({ role: "assistant", content: REPLAY_TURN_END });
        if (failed) return failed;
      }
    }
    const evaluation = await instance.evaluate();
    if (!evaluation.success) return { ok: false, reason: "checks_failed", detail: JSON.stringify(evaluation.details).slice(0, 500) };
    return { ok: true };
  } finally {
    await instance.release().catch(() => undefined);
  }
}
