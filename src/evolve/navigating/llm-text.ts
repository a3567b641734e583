// Shared by the LLM extractor and the semantic advantage: a trajectory as compact text.
import type { Trajectory } from "../../agent/index.js";
import { isExperienceMessage, taskText } from "./template.js";

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max)} [… ${text.length - max} more characters]`);

/** The task's words, then each step's action and what came back, then the outcome. Injected experience is left out. */
export function describeAttempt(trajectory: Trajectory, maxStepChars = 600): string {
  const lines: string[] = [];
  trajectory.steps.forEach((step, i) => {
    const calls = (step.action.tool_calls ?? []).map((c) => `${c.function.name}(${c.function.arguments})`).join("; ");
    const action = [step.action.content.trim(), calls].filter(Boolean).join(" | ");
    lines.push(`step ${i} ACTION: ${clip(action || "(nothing)", maxStepChars)}`);
    const observed = step.observations.filter((o) => !isExperienceMessage(o)).map((o) => o.content).join("\n").trim();
    if (observed) lines.push(`step ${i} OBSERVATION: ${clip(observed, maxStepChars)}`);
  });
  lines.push(`OUTCOME: ${trajectory.success ? "success" : "failure"} (score ${trajectory.reward.toFixed(2)})`);
  return lines.join("\n");
}

export function describeTask(group: readonly Trajectory[], maxChars = 2000): string {
  return clip(taskText(group[0]?.messages ?? []), maxChars);
}
