// The rule extractor: for environments whose steps report rewards (key-chain) or whose observations report errors
// (BFCL's "Error: …" tool results), what worked where another attempt of the same task failed. Steps of a group are
// compared by what the agent was just told; where one attempt's step was right and a sibling's was wrong, that is an
// experience of origin success; where every attempt failed (scored wrong, or with an error), what failed is an
// experience of origin failure. No model is needed, so tiny models, CI and the miniature ablation have one.
import type { ChatMessage } from "../../core/messages.js";
import type { Trajectory } from "../../agent/index.js";
import type { NewExperience } from "./schema.js";
import { isExperienceMessage, taskText } from "./template.js";

const MAX_TEXT = 300;
export const RULE_EXTRACTOR_ID = "rule:step-outcome";

interface StepOutcome {
  trajectory: Trajectory;
  context: string;
  action: string;
  good: boolean;
  /** The environment scored the step itself (a step reward). */
  rewarded: boolean;
  error?: string;
}

const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

/** What the action did, as text: its words and its calls. */
function actionText(action: ChatMessage): string {
  const calls = (action.tool_calls ?? []).map((c) => `${c.function.name}(${c.function.arguments})`);
  return clip([action.content.trim(), ...calls].filter(Boolean).join(" "));
}

function errorOf(observations: readonly ChatMessage[]): string | undefined {
  const error = observations.find((o) => /^\s*(error\b|\{?\s*"?error"?\s*:)/i.test(o.content));
  return error ? clip(error.content.trim()) : undefined;
}

function stepOutcomes(trajectory: Trajectory): StepOutcome[] {
  const outcomes: StepOutcome[] = [];
  let context = taskText(trajectory.messages);
  for (const step of trajectory.steps) {
    const error = errorOf(step.observations);
    // A step reward says it outright; without one, a step is good when nothing it did came back as an error.
    const good = step.reward !== undefined ? step.reward > 0 : error === undefined;
    outcomes.push({ trajectory, context: clip(context.trim()), action: actionText(step.action), good, rewarded: step.reward !== undefined, error });
    const told = step.observations.filter((o) => !isExperienceMessage(o)).map((o) => o.content).join("\n");
    if (told.trim() !== "") context = told;
  }
  return outcomes;
}

/** Experiences from one group (the rollouts of one task); at most `limit`. `successes: every` also writes what
 * worked where no sibling failed. */
export function extractByRule(group: readonly Trajectory[], limit = 4, options: { successes?: "contrast" | "every" } = {}): NewExperience[] {
  const byContext = new Map<string, StepOutcome[]>();
  for (const trajectory of group) {
    for (const outcome of stepOutcomes(trajectory)) {
      if (outcome.context === "" || outcome.action === "") continue;
      const list = byContext.get(outcome.context) ?? [];
      list.push(outcome);
      byContext.set(outcome.context, list);
    }
  }
  const experiences: NewExperience[] = [];
  for (const [context, outcomes] of byContext) {
    const good = outcomes.filter((o) => o.good);
    const bad = outcomes.filter((o) => !o.good);
    const worked = [...new Set(good.map((o) => o.action))];
    const failed = [...new Set(bad.map((o) => o.action))].filter((a) => !worked.includes(a));
    const sources = [...good, ...bad].map((o) => o.trajectory);
    const provenance = {
      sourceTrajectories: [...new Set(sources.map((t) => t.id))],
      sourceTasks: [...new Set(sources.map((t) => t.taskId))],
      extractor: RULE_EXTRACTOR_ID,
    };
    const whenToUse = ruleWhenToUse(context);
    if (worked.length > 0 && failed.length > 0) {
      const errors = bad.map((o) => o.error).filter(Boolean);
      const why = errors.length > 0 ? ` (it failed with: ${errors[0]})` : "";
      experiences.push({
        whenToUse,
        content: ruleSuccessContent(worked[0], failed, why),
        origin: "success",
        ...provenance,
      });
    } else if (worked.length > 0 && options.successes === "every" && good.some((o) => o.rewarded)) {
      // Only a step the environment scored: without a step reward, "no error" is too weak to call an answer right.
      experiences.push({ whenToUse, content: ruleSuccessContent(mostCommon(good.map((o) => o.action)), []), origin: "success", ...provenance });
    } else if (worked.length === 0 && bad.some((o) => o.error !== undefined)) {
      const errored = bad.filter((o) => o.error !== undefined);
      experiences.push({
        whenToUse,
        content: `${errored.map((o) => `${quote(o.action)} failed with: ${o.error}`).slice(0, 2).join("; ")}. Try something else.`,
        origin: "failure",
        ...provenance,
      });
    } else if (worked.length === 0 && bad.some((o) => o.rewarded)) {
      // Every attempt was scored wrong: what not to answer again.
      experiences.push({ whenToUse, content: `${failed.slice(0, 4).map(quote).join(", ")} did not work; try another answer.`, origin: "failure", ...provenance });
    }
    if (experiences.length >= limit) break;
  }
  return experiences;
}

/** How the rule extractor says where an experience applies: after the agent was told `context`. */
export function ruleWhenToUse(context: string): string {
  return `you are told: ${context}`;
}

/** How the rule extractor says what worked where siblings failed (`why`: the failure's error, if any); with no
 * failure (rule_successes every), what worked alone. */
export function ruleSuccessContent(worked: string, failed: readonly string[], why = ""): string {
  if (failed.length === 0) return `answer ${quote(worked)}.`;
  return `answer ${quote(worked)}; ${failed.map(quote).join(", ")} did not work${why}.`;
}

function mostCommon(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].reduce((best, next) => (next[1] > best[1] ? next : best))[0];
}

function quote(text: string): string {
  return JSON.stringify(text);
}
