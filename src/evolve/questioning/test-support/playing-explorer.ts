// A deterministic BFCL explorer for tests and the bench: it plays training entries' ground-truth calls of the tools it
// is offered, picked by the request's seed, then ends; what a curious policy might do, without a model.
import type { ChatMessage } from "../../../core/messages.js";
import type { BfclEnvironment, ReferenceAction } from "../../../env/index.js";
import { ScriptedProvider } from "../../../llm/index.js";

type Call = Extract<ReferenceAction, { name: string }>;

/** The ground-truth calls of the first `limit` training tasks. */
export async function groundTruthCalls(env: BfclEnvironment, limit = 120): Promise<Call[]> {
  const calls: Call[] = [];
  for (const taskId of (await env.listTasks("train")).slice(0, limit)) {
    const spec = await env.taskSpec(taskId);
    for (const turn of spec?.solution ?? []) calls.push(...turn.filter((action): action is Call => "name" in action));
  }
  return calls;
}

/** Plays calls of the offered tools for `steps` steps, then ends the episode with a reply. */
export function playingExplorer(calls: Call[], steps = 4): ScriptedProvider {
  return new ScriptedProvider([(request) => {
    const step = request.messages.filter((m) => m.role === "assistant").length;
    if (step >= steps) return "done";
    const offered = new Set((request.tools ?? []).map((t) => t.function.name));
    const usable = calls.filter((c) => offered.has(c.name));
    if (usable.length === 0) return "nothing to call";
    const pick = usable[Math.abs((request.seed ?? 0) * 7919 + step * 104729) % usable.length];
    const message: ChatMessage = { role: "assistant", content: "", tool_calls: [{ id: `e${step}`, type: "function", function: { name: pick.name, arguments: JSON.stringify(pick.arguments) } }] };
    return message;
  }], { loop: true });
}
