// The ablation's numbers and how they are written: mean and sample standard deviation, iterations to a threshold,
// the paper's ordering check, and a table and plot that say "not available" instead of a number.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONFIGURATIONS, type AblationConfiguration } from "./configurations.js";
import { ablationSvg, bandOf } from "./plot.js";
import { ablationMarkdown } from "./report.js";
import { checkOrdering, iterationsToThreshold, spread, summarize, type ConfigurationOutcome, type CurvePoint } from "./summary.js";

const configuration = (name: string): AblationConfiguration => CONFIGURATIONS.find((c) => c.name === name)!;
const curve = (...successes: number[]): CurvePoint[] => successes.map((success, i) => ({ iterations: i * 5, success, score: success }));
const outcome = (name: string, finals: number[]): ConfigurationOutcome => ({
  configuration: configuration(name),
  status: "done",
  // training success rises over the 10 iterations from 0 to the final held-out success (mean: 0.45 × final)
  runs: finals.map((final, seed) => ({ seed, runId: `${name}-${seed}`, points: curve(0, final / 2, final), trainSuccess: Array.from({ length: 10 }, (_, i) => (final * i) / 10), seconds: 60 })),
});

test("spread: mean and sample standard deviation (n - 1); none below two values", () => {
  // values 1, 2, 3: mean 2, squared deviations 1 + 0 + 1 = 2, over n - 1 = 2 → variance 1
  assert.deepEqual(spread([1, 2, 3]), { values: [1, 2, 3], mean: 2, sd: 1 });
  assert.ok(Number.isNaN(spread([0.5]).sd));
  assert.equal(spread([0.5]).mean, 0.5);
  assert.ok(Number.isNaN(spread([]).mean));
});

test("iterations to threshold: the first evaluation at or above it, in iteration order; undefined when never", () => {
  assert.equal(iterationsToThreshold([{ iterations: 10, success: 0.95, score: 1 }, { iterations: 5, success: 0.9, score: 1 }], 0.9), 5);
  assert.equal(iterationsToThreshold(curve(0, 0.5, 0.89), 0.9), undefined);
});

test("summarize: the final point is the one after the budget's last iteration; a run stopped short counts for nothing there", () => {
  const stopped: ConfigurationOutcome = {
    configuration: configuration("grpo"),
    status: "failed",
    reason: "TRAINER_UNREACHABLE: gone",
    runs: [
      { seed: 0, runId: "a", points: curve(0, 0.5, 1), trainSuccess: [0, 0.5, 0.5, 1, 1, 1, 1, 1, 1, 1], seconds: 60 },
      { seed: 1, runId: "b", points: curve(0, 0.25), trainSuccess: [0, 0.25, 0.25, 0.5, 0.5], seconds: 60 },
    ],
  };
  const summary = summarize(stopped, 10, 0.9);
  assert.deepEqual(summary.finalSuccess.values, [1]);
  // training success: the mean of the budget's iterations, and only for the run that did all of them
  assert.deepEqual(summary.trainSuccess.values, [0.8]);
  assert.deepEqual({ reached: summary.toThreshold.reached, of: summary.toThreshold.of, values: summary.toThreshold.values }, { reached: 1, of: 2, values: [10] });
});

test("the ordering check: singles above GRPO, all above singles, all clear of GRPO by more than the larger spread", () => {
  const budget = 10;
  const sum = (o: ConfigurationOutcome) => summarize(o, budget, 0.9);
  const paper = [outcome("grpo", [0.1, 0.2, 0.3]), outcome("questioning", [0.4, 0.5, 0.6]), outcome("navigating", [0.3, 0.4, 0.5]), outcome("attributing", [0.5, 0.5, 0.5]), outcome("all", [0.8, 0.9, 1])];
  assert.deepEqual(checkOrdering(paper.map(sum)), { complete: true, singlesAboveGrpo: true, allAboveSingles: true, allClearOfGrpo: true });
  // the same check on the held-out score: here each point's score is its success
  assert.deepEqual(checkOrdering(paper.map(sum), "finalScore"), checkOrdering(paper.map(sum)));
  // all three above GRPO on the mean, but by less than one standard deviation of either (sd 0.4 here)
  const noisy = [outcome("grpo", [0.1, 0.5, 0.9]), outcome("questioning", [0.6, 0.6]), outcome("navigating", [0.6]), outcome("attributing", [0.6]), outcome("all", [0.3, 0.7, 1.1])];
  assert.deepEqual(checkOrdering(noisy.map(sum)), { complete: true, singlesAboveGrpo: true, allAboveSingles: true, allClearOfGrpo: false });
  const unavailable: ConfigurationOutcome = { configuration: configuration("navigating"), status: "unavailable", reason: "navigating not in this build", runs: [] };
  assert.deepEqual(checkOrdering([paper[0], paper[1], unavailable, paper[3], paper[4]].map(sum)), { complete: false });
});

test("the table and the plot: numbers with their spread, and 'not available' for a configuration that could not run", () => {
  const outcomes = [outcome("grpo", [0.1, 0.2, 0.3]), { configuration: configuration("navigating"), status: "unavailable" as const, reason: "navigating not in this build", runs: [] }];
  const summaries = outcomes.map((o) => summarize(o, 10, 0.5));
  const markdown = ablationMarkdown(
    { title: "t", configPath: "c.yaml", storePath: "/s/runs.db", budget: 10, seeds: [0, 1, 2], threshold: 0.5, quick: false, plot: "ablation.svg", seconds: 60, runSeconds: 600 },
    summaries,
    new Map([["grpo", ["grpo-0", "grpo-1", "grpo-2"]]]),
  );
  // training success per seed: 0.45 × 0.1, 0.2, 0.3 → mean 0.090, sd 0.045
  assert.match(markdown, /\| GRPO \| 0\.200 ± 0\.100 \| 0\.100, 0\.200, 0\.300 \| not reached \(0\/3\) \| 0\.200 ± 0\.100 \| 0\.090 ± 0\.045 \| `grpo-0` `grpo-1` `grpo-2` \|/);
  assert.match(markdown, /\| \+navigating \| not available: navigating not in this build \|/);
  assert.match(markdown, /ordering on success cannot be checked/);
  assert.match(markdown, /Order by mean held-out score at the end: GRPO 0\.200\./);
  assert.match(markdown, /!\[.*\]\(ablation\.svg\)/);

  // the band: mean, lowest and highest seed at each shared evaluation point
  const last = bandOf(outcomes[0]).at(-1)!;
  assert.deepEqual({ ...last, mean: Number(last.mean.toFixed(9)) }, { iterations: 10, mean: 0.2, low: 0.1, high: 0.3 });
  const svg = ablationSvg(outcomes, { title: "a < b", budget: 10, threshold: 0.5 });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(svg.match(/<polyline /g)?.length, 1, "one line: the configuration that ran");
  assert.match(svg, /\+navigating \(not available\)/);
  assert.match(svg, /a &lt; b/);
});
