// Reads the shared vectors (test/vectors/attribution.json), the contract with the Python trainer, for the tests here.
import { readFileSync } from "node:fs";
import type { StepLabelValue } from "../advantages.js";
import type { LossAggregation, PolicyLossConfig, PolicyLossInput } from "../loss.js";
import { mulberry32 } from "../../../core/random.js";

export interface AdvantageVector {
  name: string;
  comment: string;
  groups: { outcomes: number[]; step_labels: (StepLabelValue[] | null)[]; step_token_counts: number[][] }[];
  config: { alpha: number; normalize_std: boolean; eps: number };
  expected: {
    grpo: number[][];
    adca_step_advantages: number[][][];
    adca_token_advantages: number[][][];
    adca_fallbacks: number;
  };
}

export interface LossVector {
  name: string;
  comment: string;
  inputs: {
    logprobs: number[][];
    old_logprobs: number[][];
    ref_logprobs: number[][] | null;
    advantages: number[][];
    mask: number[][];
    experience_guided: boolean[];
  };
  config: {
    clip_low: number;
    clip_high: number;
    clip_high_boost: number | null;
    dual_clip_c: number | null;
    kl_beta: number;
    kl_type: "low_var_kl";
    aggregation: LossAggregation;
  };
  expected: { token_losses: number[][]; kl: number[][] | null; loss: number; grad_logprobs: number[][] };
}

export function readAttributionVectors(): { version: number; advantages: AdvantageVector[]; losses: LossVector[] } {
  const url = new URL("../../../../test/vectors/attribution.json", import.meta.url);
  return JSON.parse(readFileSync(url, "utf8"));
}

export function lossInputFromVector(vector: LossVector): PolicyLossInput {
  const { inputs } = vector;
  return {
    logprobs: inputs.logprobs,
    oldLogprobs: inputs.old_logprobs,
    refLogprobs: inputs.ref_logprobs,
    advantages: inputs.advantages,
    mask: inputs.mask,
    experienceGuided: inputs.experience_guided,
  };
}

export function lossConfigFromVector(vector: LossVector): PolicyLossConfig {
  return lossConfigFromJson(vector.config);
}

/** The vectors' snake_case loss config as the maths takes it; the generator script writes cases through it too. */
export function lossConfigFromJson(config: LossVector["config"]): PolicyLossConfig {
  return {
    clipLow: config.clip_low,
    clipHigh: config.clip_high,
    clipHighBoost: config.clip_high_boost,
    dualClipC: config.dual_clip_c,
    klBeta: config.kl_beta,
    klType: config.kl_type,
    aggregation: config.aggregation,
  };
}

/** A small seeded generator (mulberry32) so property tests are reproducible. */
export const seededRandom = mulberry32;

export function assertAllClose(actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  actual.forEach((a, i) => {
    if (!(Math.abs(a - expected[i]) <= tolerance)) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${expected[i]} (tolerance ${tolerance})`);
    }
  });
}
