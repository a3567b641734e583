// One rollout as the update saw it: each step coloured by its GOOD/BAD verdict with the judge's reason, the step's
// advantage, the tokens the policy sampled there (the trained ones, with their sampling logprobs), and what the
// environment answered. Advantages are recomputed from the stored group as the update computed them (recipe/run-audit).
import { z } from "zod";
import type { Trajectory } from "../../agent/index.js";
import type { TrajectoryJudgment } from "../../evolve/attributing/index.js";
import { groupAdvantages, storedRunConfig } from "../../recipe/index.js";
import { EvolverError } from "../../core/errors.js";
import { formatNumber, html, queryString } from "../html.js";
import { defineView } from "./view.js";

const Query = z.strictObject({ id: z.string().min(1).max(500) });

export const trajectoryView = defineView({
  id: "trajectory",
  title: "Trajectory",
  tab: false,
  query: Query,
  available: () => true,
  data: ({ store, runId }, query) => {
    const row = store.db.prepare("SELECT iteration, purpose FROM trajectories WHERE id = ? AND run_id = ?").get(query.id, runId) as
      | { iteration: number; purpose: "train" | "eval" }
      | undefined;
    if (!row) throw new EvolverError("TRAJECTORY_UNKNOWN", `run ${runId} has no trajectory '${query.id}'`);
    const trajectory = store.getTrajectory(query.id);
    const judgment = store.getVerdicts(query.id)?.verdicts as TrajectoryJudgment | undefined;
    let advantages: { source: string; stepAdvantages: number[] } | undefined;
    if (row.purpose === "train") {
      advantages = groupAdvantages(store, runId, storedRunConfig(store, runId), row.iteration, trajectory.groupKey).get(trajectory.id);
    }
    return { iteration: row.iteration, purpose: row.purpose, trajectory, judgment: judgment ?? null, advantages: advantages ?? null };
  },
  html: ({ runId }, { iteration, purpose, trajectory, judgment, advantages }) => {
    const verdicts = new Map((judgment?.verdicts ?? []).map((v) => [v.step, v]));
    const firstAction = trajectory.messages.findIndex((m) => m.role === "assistant");
    const prompt = firstAction < 0 ? trajectory.messages : trajectory.messages.slice(0, firstAction);
    return html`
      <h1>Trajectory <code>${trajectory.id}</code></h1>
      <p><a href="/runs/${encodeURIComponent(runId)}/trajectories${queryString({ purpose, iteration, task: trajectory.taskId })}">← the task's ${purpose} rollouts of iteration ${iteration}</a></p>
      <table class="facts">
        <tr><th>task</th><td>${trajectory.taskId} (${purpose}, iteration ${iteration}, sample ${trajectory.sampleIndex})</td></tr>
        <tr><th>outcome</th><td class="${trajectory.success ? "good" : "bad"}">reward ${formatNumber(trajectory.reward)}, ${trajectory.success ? "success" : "failure"}, ended: ${trajectory.termination}${trajectory.error ? ` (${trajectory.error})` : ""}</td></tr>
        <tr><th>judge</th><td>${judgment ? `${judgment.judgeModel}, ${judgment.status}${judgment.error ? ` (${judgment.error})` : ""}` : "not judged"}</td></tr>
        <tr><th>advantages</th><td>${advantages ? `${advantages.source} (as the update of iteration ${iteration} computed them)` : purpose === "eval" ? "none: an evaluation rollout is not trained on" : "none: left out of the update (errored)"}</td></tr>
      </table>
      <h2>Task</h2>
      ${prompt.map((m) => html`<div class="message ${m.role}"><span class="role">${m.role}</span><pre>${messageText(m)}</pre></div>`)}
      <h2>Steps</h2>
      ${trajectory.steps.map((step, position) => {
        const verdict = verdicts.get(position);
        const label = verdict?.label ?? null;
        const advantage = advantages?.stepAdvantages[position];
        const sampled = trajectory.segments.filter((s) => s.source === "policy" && s.step === position);
        return html`<section class="step ${label === "GOOD" ? "good" : label === "BAD" ? "bad" : "none"}">
          <h3>Step ${position}: <span class="verdict">${label ?? "no verdict"}</span>${advantage === undefined ? "" : html` <span class="advantage">advantage ${formatNumber(advantage)}</span>`}</h3>
          ${verdict ? html`<p class="reason">${verdict.reason}</p>` : ""}
          <div class="message assistant"><span class="role">action</span><pre>${messageText(step.action)}</pre></div>
          ${sampled.length > 0 ? html`<div class="tokens"><span class="role">sampled tokens</span>${sampled.flatMap((segment) =>
            segment.tokens.map((token, i) => html`<span class="token ${segment.lossMask[i] === 1 ? "trained" : "masked"}" title="logprob ${formatNumber(segment.logprobs?.[i])}${segment.lossMask[i] === 1 ? `, trained with advantage ${formatNumber(advantage)}` : ", not trained"}">${token}</span>`),
          )}</div>` : ""}
          ${step.observations.map((m) => html`<div class="message observation"><span class="role">${m.role}</span><pre>${messageText(m)}</pre></div>`)}
        </section>`;
      })}`;
  },
});

function messageText(message: Trajectory["messages"][number]): string {
  const calls = (message.tool_calls ?? []).map((c) => `\n→ ${c.function.name}(${c.function.arguments})`).join("");
  return `${message.content}${calls}`;
}
