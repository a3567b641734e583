// The ablation's Markdown table: what came out, mean and spread, whatever the ordering; a configuration that could
// not run says why in its row instead of a number.
import { checkOrdering, type ConfigurationSummary } from "./summary.js";

export interface ReportHeader {
  title: string;
  configPath: string;
  storePath: string;
  budget: number;
  seeds: number[];
  threshold: number;
  quick: boolean;
  /** File name of the plot written beside the table. */
  plot: string;
  /** Wall-clock seconds of this invocation (small when it reused finished runs). */
  seconds: number;
  /** The runs' own wall-clock seconds added up (each from its creation to its end, whenever it ran). */
  runSeconds: number;
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

function meanAndSpread(values: number[], mean: number, sd: number, digits: number): string {
  if (values.length === 0) return "—";
  return values.length < 2 ? fixed(mean, digits) : `${fixed(mean, digits)} ± ${fixed(sd, digits)}`;
}

export function ablationMarkdown(header: ReportHeader, summaries: ConfigurationSummary[], runIds: Map<string, string[]>): string {
  const lines = [
    `# ${header.title}`,
    "",
    `Config \`${header.configPath}\`${header.quick ? " (--quick)" : ""}; ${header.budget} iterations per run; seeds ${header.seeds.join(", ")}; ` +
      `every run in \`${header.storePath}\`; the runs took ${Math.round(header.runSeconds / 60)} min one after another (this invocation ${Math.round(header.seconds / 60)} min). Mean ± sample standard deviation over seeds.`,
    "",
    `| configuration | held-out success after ${header.budget} iterations | per seed | iterations to ${header.threshold} success | held-out score after ${header.budget} | training success, mean of the ${header.budget} iterations | runs |`,
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const s of summaries) {
    const ids = (runIds.get(s.configuration.name) ?? []).map((id) => `\`${id}\``).join(" ");
    if (s.status === "unavailable") {
      lines.push(`| ${s.configuration.label} | not available: ${s.reason ?? ""} | | | | | |`);
      continue;
    }
    const success = meanAndSpread(s.finalSuccess.values, s.finalSuccess.mean, s.finalSuccess.sd, 3);
    const perSeed = s.finalSuccess.values.map((v) => fixed(v, 3)).join(", ");
    const t = s.toThreshold;
    const toThreshold = t.reached === 0 ? `not reached (0/${t.of})` : `${meanAndSpread(t.values, t.mean, t.sd, 1)} (${t.reached}/${t.of} reached)`;
    const score = meanAndSpread(s.finalScore.values, s.finalScore.mean, s.finalScore.sd, 3);
    const training = meanAndSpread(s.trainSuccess.values, s.trainSuccess.mean, s.trainSuccess.sd, 3);
    const failed = s.status === "failed" ? ` **failed: ${s.reason ?? ""}**` : "";
    lines.push(`| ${s.configuration.label} | ${success}${failed} | ${perSeed} | ${toThreshold} | ${score} | ${training} | ${ids} |`);
  }
  // Success (every lock of a chain) is the paper's measure; the score (the fraction of locks) moves first in a short
  // budget, so the order is given on both.
  for (const [metric, what] of [["finalSuccess", "success"], ["finalScore", "score"]] as const) {
    const ran = summaries.filter((s) => s[metric].values.length > 0).sort((a, b) => b[metric].mean - a[metric].mean);
    const order = ran.map((s, i) => `${i === 0 ? "" : fixed(ran[i - 1][metric].mean, 3) === fixed(s[metric].mean, 3) ? " = " : " > "}${s.configuration.label} ${fixed(s[metric].mean, 3)}`);
    lines.push("", `Order by mean held-out ${what} at the end: ${order.join("") || "nothing ran"}.`);
    const ordering = checkOrdering(summaries, metric);
    if (!ordering.complete) {
      lines.push(`The paper's ordering on ${what} cannot be checked: not every configuration ran to the end.`);
      continue;
    }
    const said = (ok: boolean | undefined, text: string) => `${ok ? "yes" : "no"}: ${text}`;
    lines.push(
      `The paper's ordering on held-out ${what}:`,
      `- ${said(ordering.singlesAboveGrpo, "each single mechanism above GRPO")}`,
      `- ${said(ordering.allAboveSingles, "all three above each single mechanism")}`,
      `- ${said(ordering.allClearOfGrpo, "all three above GRPO by more than one standard deviation (the larger of the two)")}`,
    );
  }
  lines.push(
    "",
    "Training success is the share of an iteration's rollouts that solved their task, on the tasks that configuration " +
      "trained on (questioning adds synthetic ones, navigating guides some rollouts), so it compares GRPO with " +
      "+attributing directly and the others only loosely.",
  );
  lines.push("", `![held-out success over iterations, mean of the seeds with their range](${header.plot})`, "");
  return lines.join("\n");
}
