// Verification: a candidate's reference solution replayed in a fresh instance. It is accepted only if no call errs
// and the task's own checks pass (BFCL: the state and response checks; key-chain: every lock opened).
import type { ChatMessage, ToolCall } from "../../core/messages.js";
import { describeError, EvolverError } from "../../core/errors.js";
import type { Environment, EnvInstance, Evaluation, StepResult, TaskSpec } from "../../env/index.js";
import type { RejectReason } from "./schema.js";

/** What ends a turn whose calls are done, for environments where a reply without calls closes the turn. */
export const REPLAY_TURN_END = "Done.";

/** `detail` of an accepted replay: how it was graded, where the grader says (an LLM judge's score and reason). */
export type ReplayVerdict =
  | { ok: true; detail?: string }
  | { ok: false; reason: Extract<RejectReason, "bad_spec" | "replay_error" | "checks_failed" | "undecided">; detail: string };

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
    let evaluation: Evaluation;
    try {
      evaluation = await instance.evaluate();
    } catch (error) {
      // A judge that cannot decide grades nothing: the candidate is refused as such, counted apart from failures.
      const undecided = EvolverError.isInstance(error) && error.code === "JUDGE_UNDECIDED";
      return { ok: false, reason: undecided ? "undecided" : "replay_error", detail: describeError(error) };
    }
    const judged = judgeDetail(evaluation);
    if (!evaluation.success) return { ok: false, reason: "checks_failed", detail: judged ?? JSON.stringify(evaluation.details).slice(0, 500) };
    return judged === undefined ? { ok: true } : { ok: true, detail: judged };
  } finally {
    await instance.release().catch(() => undefined);
  }
}

/** "judge 85: reason" where an LLM judge graded (judgedEnvironment's details), else undefined. */
function judgeDetail(evaluation: Evaluation): string | undefined {
  const judge = evaluation.details.judge as { score?: unknown; reason?: unknown } | undefined;
  return judge && typeof judge.score === "number" ? `judge ${judge.score}: ${String(judge.reason ?? "")}` : undefined;
}
