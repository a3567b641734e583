// Reads the shared vectors (test/vectors/attribution.json), the contract with the Python trainer, for the tests here.
import { readFileSync } from "node:fs";
import type { z } from "zod";
import type { StepLabelValue } from "../advantages.js";
import type { PolicyLossInput } from "../loss.js";
import { PolicyLossConfig } from "../schema.js";
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
    /** Per token: the learner's entropy at that position; present where the case has an entropy bonus. */
    entropies?: number[][];
  };
  /** The loss_fn_config of the case, as sent to the trainer (absent fields take PolicyLossConfig's defaults). */
  config: z.input<typeof PolicyLossConfig>;
  expected: { token_losses: number[][]; kl: number[][] | null; loss: number; entropy?: number; grad_logprobs: number[][] };
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
    entropies: inputs.entropies ?? null,
  };
}

export function lossConfigFromVector(vector: LossVector): PolicyLossConfig {
  return lossConfigFromJson(vector.config);
}

/** The vectors' config is the trainer's loss_fn_config: the schema fills in what a case leaves out. */
export function lossConfigFromJson(config: LossVector["config"]): PolicyLossConfig {
  return PolicyLossConfig.parse(config);
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
