// The audit trail of a judgment: for each step, what the agent did, what came back, the verdict and why. The run
// store keeps the JSON form; the CLI and dashboard show the Markdown form.
import type { Trajectory } from "../../agent/index.js";
import { renderAction, renderObservations, renderTask } from "./judge-prompt.js";
import type { StepLabel, TrajectoryJudgment } from "./schema.js";

export interface AuditStep {
  step: number;
  action: string;
  /** The environment's answer, cut to `observationChars`. */
  observationExcerpt: string;
  label: StepLabel | null;
  reason: string | null;
  /** The step's advantage, when given. */
  advantage?: number;
}

export interface AuditReport {
  trajectoryId: string;
  taskId: string;
  task: string;
  reward: number;
  success: boolean;
  judgeModel: string;
  status: "ok" | "failed";
  error?: string;
  steps: AuditStep[];
}

export interface AuditOptions {
  /** Step advantages to show beside the verdicts. */
  stepAdvantages?: readonly number[];
  /** Observation excerpt length; default 300 characters. */
  observationChars?: number;
}

function excerpt(text: string, chars: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= chars ? flat : `${flat.slice(0, chars)}…`;
}

/** The judgment of a trajectory as plain data (JSON-ready). A failed judgment still lists the steps, without verdicts. */
export function exportAudit(trajectory: Trajectory, judgment: TrajectoryJudgment, options: AuditOptions = {}): AuditReport {
  const chars = options.observationChars ?? 300;
  const verdicts = new Map(judgment.verdicts.map((verdict) => [verdict.step, verdict]));
  return {
    trajectoryId: trajectory.id,
    taskId: trajectory.taskId,
    task: renderTask(trajectory),
    reward: trajectory.reward,
    success: trajectory.success,
    judgeModel: judgment.judgeModel,
    status: judgment.status,
    ...(judgment.error !== undefined ? { error: judgment.error } : {}),
    steps: trajectory.steps.map((step, position) => {
      const verdict = verdicts.get(position);
      const advantage = options.stepAdvantages?.[position];
      return {
        step: position,
        action: renderAction(step.action),
        observationExcerpt: excerpt(renderObservations(step.observations), chars),
        label: verdict?.label ?? null,
        reason: verdict?.reason ?? null,
        ...(advantage !== undefined ? { advantage } : {}),
      };
    }),
  };
}

/** A Markdown rendition of an audit report: a header, then one section per step. */
export function renderAuditMarkdown(report: AuditReport): string {
  const lines = [
    `# Trajectory ${report.trajectoryId} (task ${report.taskId})`,
    "",
    `- outcome: reward ${report.reward}, ${report.success ? "success" : "failure"}`,
    `- judge: ${report.judgeModel}, ${report.status}${report.error ? ` (${report.error})` : ""}`,
    "",
    "## Task",
    "",
    report.task,
    "",
  ];
  for (const step of report.steps) {
    const verdict = step.label === null ? "no verdict" : `**${step.label}**`;
    const advantage = step.advantage === undefined ? "" : `, advantage ${step.advantage.toFixed(4)}`;
    lines.push(`## Step ${step.step}: ${verdict}${advantage}`, "", "Action:", "", "```", step.action, "```", "");
    if (step.observationExcerpt !== "") lines.push(`Observation: ${step.observationExcerpt}`, "");
    if (step.reason !== null) lines.push(`Reason: ${step.reason}`, "");
  }
  return lines.join("\n");
}
