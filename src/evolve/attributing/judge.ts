// The step judge: labels every step of a trajectory GOOD or BAD with a reason, given the episode's outcome.
// Two kinds behind one interface: an LLM judge (structured JSON output, validated, retried, cached, several
// trajectories in flight) and a rule judge, for environments that know which steps were right.
// A judge never throws for one bad trajectory: it returns a "failed" judgment, and the advantage maths falls back
// to plain GRPO for it and counts it.
import { createHash } from "node:crypto";
import { z } from "zod";
import { describeError } from "../../core/index.js";
import type { Trajectory } from "../../agent/index.js";
import type { LlmProvider } from "../../llm/index.js";
import { chatStructured, parseStructured } from "../../llm/structured.js";
import { judgeVerdictCountError } from "./errors.js";
import { buildJudgeMessages, JUDGE_PROMPT_VERSION, type JudgeOutcome } from "./judge-prompt.js";
import { JudgeConfig, JudgeOutput, StepVerdict, type StepLabel, type TrajectoryJudgment } from "./schema.js";

/** Where verdicts are remembered between calls and runs; the run store implements it persistently. */
export interface VerdictCache {
  get(key: string): StepVerdict[] | undefined;
  set(key: string, verdicts: StepVerdict[]): void;
}

/** An in-memory cache, optionally in front of a persistent one (reads fall through, writes go to both). */
export class MemoryVerdictCache implements VerdictCache {
  private readonly entries = new Map<string, StepVerdict[]>();
  constructor(private readonly backing?: VerdictCache) {}

  get(key: string): StepVerdict[] | undefined {
    const hit = this.entries.get(key) ?? this.backing?.get(key);
    if (hit !== undefined) this.entries.set(key, hit);
    return hit;
  }

  set(key: string, verdicts: StepVerdict[]): void {
    this.entries.set(key, verdicts);
    this.backing?.set(key, verdicts);
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface JudgeItem {
  trajectory: Trajectory;
  /** Defaults to the trajectory's own reward and success. */
  outcome?: JudgeOutcome;
}

export interface StepJudge {
  /** "openai:qwen-max" for an LLM judge, "rule:<name>" for a rule judge. */
  readonly id: string;
  /** One judgment per item, in the same order; never rejects for a single trajectory's failure. */
  judge(items: readonly JudgeItem[], options?: { signal?: AbortSignal }): Promise<TrajectoryJudgment[]>;
}

function outcomeOf(item: JudgeItem): JudgeOutcome {
  return item.outcome ?? { reward: item.trajectory.reward, success: item.trajectory.success };
}

/**
 * The cache key: a hash of what the judge sees (task messages, each step's action and observations), the outcome,
 * the judge model and the prompt version. The trajectory id is left out, so identical rollouts share verdicts.
 */
export function verdictCacheKey(trajectory: Trajectory, outcome: JudgeOutcome, judgeModel: string, promptVersion: string): string {
  const content = JSON.stringify({
    messages: trajectory.messages,
    steps: trajectory.steps.map((step) => ({ action: step.action, observations: step.observations })),
    outcome: { reward: outcome.reward, success: outcome.success },
    judgeModel,
    promptVersion,
  });
  return createHash("sha256").update(content).digest("hex");
}

/**
 * Parses and checks the judge's answer: JSON, the JudgeOutput shape, one verdict for each step 0..n-1 (in any order;
 * returned in step order). Throws LLM_BAD_JSON or JUDGE_VERDICT_COUNT.
 */
export function parseJudgeAnswer(text: string, trajectory: Trajectory): StepVerdict[] {
  return verdictsFor(parseStructured(text, JudgeOutput, judgeAnswerName(trajectory)), trajectory);
}

const judgeAnswerName = (trajectory: Trajectory) => `the judge's answer for trajectory '${trajectory.id}'`;

/** One verdict per step, in step order; JUDGE_VERDICT_COUNT when a step is missing, repeated or out of range. */
function verdictsFor(output: JudgeOutput, trajectory: Trajectory): StepVerdict[] {
  const n = trajectory.steps.length;
  const entries = output.steps;
  const byStep = new Map(entries.map((entry) => [entry.step, entry]));
  const complete = entries.length === n && byStep.size === n && [...byStep.keys()].every((step) => step >= 0 && step < n);
  if (!complete) throw judgeVerdictCountError(n, entries.length, trajectory.id);
  return Array.from({ length: n }, (_, step) => {
    const entry = byStep.get(step)!;
    return { step, label: entry.judgment, reason: entry.reason };
  });
}

async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export interface LlmJudgeOptions {
  provider: LlmProvider;
  /** Concurrency, attempts, prompt sizes; defaults as in JudgeConfig. */
  config?: z.input<typeof JudgeConfig>;
  /** Defaults to a fresh in-memory cache. */
  cache?: VerdictCache;
  /** Defaults to JUDGE_PROMPT_VERSION; part of the cache key. */
  promptVersion?: string;
}

// Written by hand rather than generated: no "$schema" key and no integer bounds, which keeps it inside what both
// OpenAI strict structured output and llama.cpp's grammar conversion accept. JudgeOutput checks the answer after.
const judgeJsonSchema: Record<string, unknown> = {
  type: "object",
  properties: {
    steps: {
      type: "array",
      items: {
        type: "object",
        properties: {
          step: { type: "integer" },
          reason: { type: "string" },
          judgment: { type: "string", enum: ["GOOD", "BAD"] },
        },
        required: ["step", "reason", "judgment"],
        additionalProperties: false,
      },
    },
  },
  required: ["steps"],
  additionalProperties: false,
};

/** A judge that asks an LLM for structured verdicts. */
export function createLlmJudge(options: LlmJudgeOptions): StepJudge {
  const { provider } = options;
  const config = JudgeConfig.parse(options.config ?? {});
  const cache = options.cache ?? new MemoryVerdictCache();
  const promptVersion = options.promptVersion ?? JUDGE_PROMPT_VERSION;
  const inFlight = new Map<string, Promise<TrajectoryJudgment>>();

  async function judgeOne(item: JudgeItem, signal?: AbortSignal): Promise<TrajectoryJudgment> {
    const { trajectory } = item;
    const outcome = outcomeOf(item);
    const base = { trajectoryId: trajectory.id, judgeModel: provider.id };
    if (trajectory.steps.length === 0) return { ...base, verdicts: [], status: "ok", attempts: 0, cached: false };
    const key = verdictCacheKey(trajectory, outcome, provider.id, promptVersion);
    const hit = cache.get(key);
    if (hit !== undefined && hit.length === trajectory.steps.length) {
      return { ...base, verdicts: hit, status: "ok", attempts: 0, cached: true };
    }
    // Identical rollouts in one batch share a single judge call.
    const running = inFlight.get(key);
    if (running) {
      const shared = await running;
      return { ...shared, trajectoryId: trajectory.id, attempts: 0, cached: shared.status === "ok" };
    }
    const call = (async (): Promise<TrajectoryJudgment> => {
      const answer = await chatStructured({
        provider,
        messages: buildJudgeMessages(trajectory, outcome, config.maxStepChars),
        schema: JudgeOutput,
        jsonSchema: { name: "step_verdicts", schema: judgeJsonSchema },
        interpret: (output) => verdictsFor(output, trajectory),
        maxAttempts: config.maxAttempts,
        what: judgeAnswerName(trajectory),
        temperature: config.temperature,
        maxTokens: config.maxTokens,
        signal,
      });
      if (answer.ok) {
        cache.set(key, answer.value);
        return { ...base, verdicts: answer.value, status: "ok", attempts: answer.attempts, cached: false };
      }
      const error = answer.attempts === 0 ? "aborted before the judge was called" : describeError(answer.error);
      return { ...base, verdicts: [], status: "failed", error, attempts: answer.attempts, cached: false };
    })();
    inFlight.set(key, call);
    try {
      return await call;
    } finally {
      inFlight.delete(key);
    }
  }

  return {
    id: provider.id,
    judge: (items, callOptions) => mapWithConcurrency(items, config.concurrency, (item) => judgeOne(item, callOptions?.signal)),
  };
}

/** What a rule judge returns per trajectory: full verdicts, or just one label per step. */
export type RuleJudgeFunction = (trajectory: Trajectory, outcome: JudgeOutcome) => StepVerdict[] | StepLabel[];

/**
 * A judge from a rule, for environments that know which steps were right (e.g. from the expected call sequence).
 * Same output as the LLM judge; a rule that throws or labels the wrong number of steps gives a failed judgment.
 */
export function createRuleJudge(name: string, rule: RuleJudgeFunction): StepJudge {
  const id = `rule:${name}`;
  return {
    id,
    async judge(items) {
      return items.map((item): TrajectoryJudgment => {
        const { trajectory } = item;
        const base = { trajectoryId: trajectory.id, judgeModel: id, attempts: 0, cached: false };
        try {
          const answer = rule(trajectory, outcomeOf(item));
          const verdicts = answer.map((entry, step) =>
            typeof entry === "string" ? { step, label: entry, reason: `rule ${name}` } : StepVerdict.parse(entry),
          );
          const ordered = verdicts.every((verdict, step) => verdict.step === step);
          if (verdicts.length !== trajectory.steps.length || !ordered) {
            throw judgeVerdictCountError(trajectory.steps.length, verdicts.length, trajectory.id);
          }
          return { ...base, verdicts, status: "ok" };
        } catch (error) {
          return { ...base, verdicts: [], status: "failed", error: describeError(error) };
        }
      });
    },
  };
}

export interface JudgmentSummary {
  total: number;
  ok: number;
  failed: number;
  cached: number;
  /** Judge calls made (attempts summed over trajectories not served from the cache). */
  calls: number;
  goodSteps: number;
  badSteps: number;
}

/** Counts for logs and the run store: how many judgments failed, came from the cache, and the GOOD/BAD balance. */
export function summarizeJudgments(judgments: readonly TrajectoryJudgment[]): JudgmentSummary {
  const summary: JudgmentSummary = { total: judgments.length, ok: 0, failed: 0, cached: 0, calls: 0, goodSteps: 0, badSteps: 0 };
  for (const judgment of judgments) {
    if (judgment.status === "ok") summary.ok += 1;
    else summary.failed += 1;
    if (judgment.cached) summary.cached += 1;
    summary.calls += judgment.attempts;
    for (const verdict of judgment.verdicts) {
      if (verdict.label === "GOOD") summary.goodSteps += 1;
      else summary.badSteps += 1;
    }
  }
  return summary;
}
