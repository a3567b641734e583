// The step judge's prompt, adapted from AgentEvolver's attribution prompt to our chat messages and to JSON output:
// the judge sees the task, the numbered steps (action, then what the environment answered) and the outcome, and
// attributes each step's contribution to that outcome. The rules differ by outcome, as in AgentEvolver: in a
// successful episode a step is GOOD if it moved the task forward; in a failed one only if it tried to repair the
// course. Bump JUDGE_PROMPT_VERSION whenever the wording changes: it is part of the verdict cache key.
import type { ChatMessage } from "../../core/index.js";
import type { Trajectory } from "../../agent/index.js";

export const JUDGE_PROMPT_VERSION = "step-judge-v1";

/** What the judge is told about the outcome. */
export interface JudgeOutcome {
  reward: number;
  success: boolean;
}

const SYSTEM_PROMPT = `You evaluate the steps of an AI agent that used tools to carry out a task. Your job is credit \
assignment: decide, step by step, whether each step helped or hurt the final outcome.

You receive:
1. TASK: what the user asked for.
2. STEPS: the agent's steps, numbered from 0. Each has the agent's ACTION (its message and tool calls) and, when \
present, the OBSERVATION (what the tools or the user answered).
3. OUTCOME: the environment's score for the episode and whether it succeeded.

Rules:
- If the episode SUCCEEDED: a step is GOOD when it moved the task forward: a needed call with correct arguments, a \
correct use of earlier results, a correct answer. It is BAD when it was useless, redundant, wrong, or harmful, even \
if the episode succeeded anyway.
- If the episode FAILED: a step is GOOD only when it tried to repair the course: it fixed an earlier mistake, \
recovered from an error, or stopped things from getting worse, with evidence in the observations. It is BAD when it \
made a mistake, repeated a failing action, continued a wrong plan, or finished with a wrong result.

Judge the effect of each step on the outcome; ignore politeness and formatting. Write a short reason first, then the \
judgment. Answer with JSON only, in exactly this shape, with one entry for every step, in order:
{"steps": [{"step": 0, "reason": "...", "judgment": "GOOD"}, {"step": 1, "reason": "...", "judgment": "BAD"}]}`;

function trim(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}\n[... ${text.length - maxChars} more characters]`;
}

/** An assistant message as the judge reads it: its text, then each tool call as name(arguments). */
export function renderAction(message: ChatMessage): string {
  const parts: string[] = [];
  if (message.content.trim() !== "") parts.push(message.content.trim());
  for (const call of message.tool_calls ?? []) parts.push(`CALL ${call.function.name}(${call.function.arguments})`);
  return parts.length > 0 ? parts.join("\n") : "(empty message)";
}

/** The environment's answers to a step, each tagged with who answered. */
export function renderObservations(observations: readonly ChatMessage[]): string {
  return observations
    .map((message) => (message.role === "tool" ? `[tool ${message.name ?? ""}] ` : `[${message.role}] `) + message.content)
    .join("\n");
}

/** The task as the user stated it: the user messages before the agent's first reply. */
export function renderTask(trajectory: Trajectory): string {
  const firstAssistant = trajectory.messages.findIndex((m) => m.role === "assistant");
  const before = firstAssistant < 0 ? trajectory.messages : trajectory.messages.slice(0, firstAssistant);
  const users = before.filter((m) => m.role === "user").map((m) => m.content.trim());
  return users.length > 0 ? users.join("\n\n") : "(no user message)";
}

export function buildJudgeMessages(trajectory: Trajectory, outcome: JudgeOutcome, maxStepChars: number): ChatMessage[] {
  const lines = [`## TASK`, trim(renderTask(trajectory), maxStepChars * 2), "", `## STEPS (${trajectory.steps.length} in all)`];
  trajectory.steps.forEach((step, position) => {
    lines.push(`### STEP ${position}`, "ACTION:", trim(renderAction(step.action), maxStepChars));
    if (step.observations.length > 0) {
      lines.push("OBSERVATION:", trim(renderObservations(step.observations), maxStepChars));
    }
    lines.push("");
  });
  lines.push(
    "## OUTCOME",
    `score ${outcome.reward}; the episode ${outcome.success ? "SUCCEEDED" : "FAILED"}.`,
    "",
    `Give exactly ${trajectory.steps.length} judgments, for steps 0 to ${trajectory.steps.length - 1}.`,
  );
  return [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: lines.join("\n") },
  ];
}
