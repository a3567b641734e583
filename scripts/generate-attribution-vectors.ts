// Writes test/vectors/attribution.json: the contract between the TypeScript advantage/loss maths and the Python
// trainer. Run: node --import tsx scripts/generate-attribution-vectors.ts
// Every hand-derivable case carries its derivation in `comment` and its hand values here; the script refuses to write
// the file unless the implementation reproduces each hand value to 1e-12. Only the "bulk" cases (seeded random
// inputs) are filled in by the implementation alone.
import { writeFileSync, mkdirSync } from "node:fs";
import {
  adcaGroupAdvantages,
  broadcastToStepTokens,
  grpoAdvantages,
  type StepLabelValue,
} from "../src/evolve/attributing/advantages.js";
import { policyLoss } from "../src/evolve/attributing/loss.js";
import { mulberry32 } from "../src/core/random.js";
import { lossConfigFromJson, type LossVector } from "../src/evolve/attributing/test-support/vectors.js";

const E = Math.E;
const ln = Math.log;
const S96 = Math.sqrt(0.96);

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

function assertClose(actual: number[], expected: number[], what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  actual.forEach((a, i) => {
    if (Math.abs(a - expected[i]) > 1e-12) throw new Error(`${what}[${i}]: implementation ${a} != hand ${expected[i]}`);
  });
}

// ---------------------------------------------------------------- advantages

interface GroupSpec {
  outcomes: number[];
  step_labels: (StepLabelValue[] | null)[];
  step_token_counts: number[][];
}
interface AdvantageSpec {
  name: string;
  comment: string;
  groups: GroupSpec[];
  config: { alpha: number; normalize_std: boolean; eps: number };
  /** Hand values per group: GRPO per trajectory and ADCA per step. */
  hand?: { grpo: number[]; adca: number[][] }[];
}

const EPS = 1e-6;
const advantageSpecs: AdvantageSpec[] = [
  {
    name: "grpo-binary-outcomes-with-std",
    comment:
      "Outcomes [1,0,0,1]: mean 0.5, population std 0.5, so GRPO = [1,-1,-1,1]. One step each with labels [+1,-1,+1,-1]: " +
      "pooled mean 0, std 1, so step z = labels. The only step is the last: reward = 0.5*z + outcome z = " +
      "[1.5, -1.5, -0.5, 0.5]; each token of the step repeats it.",
    groups: [{ outcomes: [1, 0, 0, 1], step_labels: [[1], [-1], [1], [-1]], step_token_counts: [[2], [3], [1], [2]] }],
    config: { alpha: 0.5, normalize_std: true, eps: EPS },
    hand: [{ grpo: [1, -1, -1, 1], adca: [[1.5], [-1.5], [-0.5], [0.5]] }],
  },
  {
    name: "grpo-without-std-normalization",
    comment:
      "normalize_std false centres without dividing (Dr. GRPO), for outcomes and steps alike. Outcomes [2,0,1]: mean 1, " +
      "GRPO = [1,-1,0]. Pooled labels [1,1,1,-1,-1]: mean 0.2, centred [0.8,0.8,0.8,-1.2,-1.2]. alpha 1. " +
      "Traj 0 rewards [0.8, 0.8+1] -> suffix sums [2.6, 1.8]; traj 1 [0.8, -1.2-1] -> [-1.4, -2.2]; traj 2 [-1.2+0] -> [-1.2].",
    groups: [{ outcomes: [2, 0, 1], step_labels: [[1, 1], [1, -1], [-1]], step_token_counts: [[1, 2], [2, 1], [3]] }],
    config: { alpha: 1, normalize_std: false, eps: EPS },
    hand: [{ grpo: [1, -1, 0], adca: [[2.6, 1.8], [-1.4, -2.2], [-1.2]] }],
  },
  {
    name: "adca-mixed-labels-balanced",
    comment:
      "Outcomes [1,0] -> z [1,-1]. Labels [[+1,-1],[+1,-1]]: pooled mean 0, std 1, z = labels. alpha 0.5. " +
      "Traj 0 rewards [0.5, -0.5+1] = [0.5, 0.5] -> suffix [1.0, 0.5]. Traj 1 rewards [0.5, -0.5-1] = [0.5, -1.5] -> " +
      "suffix [-1.0, -1.5]. Note the unsuccessful trajectory's GOOD first step still gets -1.0: outcome dominates.",
    groups: [{ outcomes: [1, 0], step_labels: [[1, -1], [1, -1]], step_token_counts: [[3, 2], [1, 4]] }],
    config: { alpha: 0.5, normalize_std: true, eps: EPS },
    hand: [{ grpo: [1, -1], adca: [[1.0, 0.5], [-1.0, -1.5]] }],
  },
  {
    name: "adca-mixed-labels-unbalanced",
    comment:
      "Outcomes [1,0] -> z [1,-1]. Pooled labels [1,-1,1,-1,-1]: mean -0.2, deviations [1.2,-0.8,1.2,-0.8,-0.8], " +
      "variance (2*1.44+3*0.64)/5 = 0.96, so a = z(GOOD) = 1.2/sqrt(0.96) = 1.2247449, b = z(BAD) = -0.8/sqrt(0.96) = " +
      "-0.8164966. alpha 0.5. Traj 0 rewards [0.5a, 0.5b, 0.5a+1] -> suffix [a+0.5b+1, 0.5a+0.5b+1, 0.5a+1] = " +
      "[1.8164966, 1.2041241, 1.6123724]. Traj 1 rewards [0.5b, 0.5b-1] -> [b-1, 0.5b-1] = [-1.8164966, -1.4082483].",
    groups: [{ outcomes: [1, 0], step_labels: [[1, -1, 1], [-1, -1]], step_token_counts: [[2, 2, 1], [1, 3]] }],
    config: { alpha: 0.5, normalize_std: true, eps: EPS },
    hand: [
      {
        grpo: [1, -1],
        adca: [
          [1.2 / S96 + 0.5 * (-0.8 / S96) + 1, 0.5 * (1.2 / S96) + 0.5 * (-0.8 / S96) + 1, 0.5 * (1.2 / S96) + 1],
          [-0.8 / S96 - 1, 0.5 * (-0.8 / S96) - 1],
        ],
      },
    ],
  },
  {
    name: "alpha-zero-equals-grpo",
    comment:
      "alpha 0: step rewards vanish, only the outcome z at the last step remains, so every step's suffix sum is the " +
      "GRPO advantage. Outcomes [0.3,0.9,0,0.6]: mean 0.45, deviations [-0.15,0.45,-0.45,0.15], variance 0.1125, " +
      "std 0.3354102, z = [-1/sqrt5, 3/sqrt5, -3/sqrt5, 1/sqrt5] = [-0.4472136, 1.3416408, -1.3416408, 0.4472136].",
    groups: [
      {
        outcomes: [0.3, 0.9, 0, 0.6],
        step_labels: [[1, -1, 1], [1, 1], [-1, -1, -1, 1], [-1]],
        step_token_counts: [[2, 1, 3], [4, 1], [1, 1, 1, 2], [5]],
      },
    ],
    config: { alpha: 0, normalize_std: true, eps: EPS },
    hand: [
      {
        grpo: [-1 / Math.sqrt(5), 3 / Math.sqrt(5), -3 / Math.sqrt(5), 1 / Math.sqrt(5)],
        adca: [
          [-1 / Math.sqrt(5), -1 / Math.sqrt(5), -1 / Math.sqrt(5)],
          [3 / Math.sqrt(5), 3 / Math.sqrt(5)],
          [-3 / Math.sqrt(5), -3 / Math.sqrt(5), -3 / Math.sqrt(5), -3 / Math.sqrt(5)],
          [1 / Math.sqrt(5)],
        ],
      },
    ],
  },
  {
    name: "failed-judgment-falls-back-to-grpo",
    comment:
      "Traj 2's judgment failed (null): it gets its GRPO advantage at every step and its steps stay out of the step " +
      "pool; the outcome z still uses all four outcomes. Outcomes [1,0,1,0] -> z [1,-1,1,-1]. Pooled labels of the " +
      "judged trajectories [1,1,-1,1,-1]: mean 0.2, variance 0.96, g = 0.8/sqrt(0.96) = 0.8164966, " +
      "b = -1.2/sqrt(0.96) = -1.2247449. alpha 1. Traj 0 [g, g+1] -> [2g+1, g+1]; traj 1 [b, g-1] -> [b+g-1, g-1]; " +
      "traj 2 -> [1, 1]; traj 3 [b-1] -> [b-1]. One fallback.",
    groups: [
      {
        outcomes: [1, 0, 1, 0],
        step_labels: [[1, 1], [-1, 1], null, [-1]],
        step_token_counts: [[1, 2], [2, 2], [3, 1], [2]],
      },
    ],
    config: { alpha: 1, normalize_std: true, eps: EPS },
    hand: [
      {
        grpo: [1, -1, 1, -1],
        adca: [
          [2 * (0.8 / S96) + 1, 0.8 / S96 + 1],
          [-1.2 / S96 + 0.8 / S96 - 1, 0.8 / S96 - 1],
          [1, 1],
          [-1.2 / S96 - 1],
        ],
      },
    ],
  },
  {
    name: "single-trajectory-group",
    comment:
      "A group of one: its outcome z is 0 (nothing to compare against; verl would pass the raw score through, we do " +
      "not), so GRPO = [0]. Its steps are still z-scored among themselves: labels [1,-1,-1], mean -1/3, variance 8/9, " +
      "z = [sqrt2, -1/sqrt2, -1/sqrt2]. alpha 0.5: rewards [sqrt2/2, -sqrt2/4, -sqrt2/4] -> suffix [0, -sqrt2/2, -sqrt2/4].",
    groups: [{ outcomes: [1], step_labels: [[1, -1, -1]], step_token_counts: [[2, 3, 1]] }],
    config: { alpha: 0.5, normalize_std: true, eps: EPS },
    hand: [{ grpo: [0], adca: [[0, -Math.SQRT2 / 2, -Math.SQRT2 / 4]] }],
  },
  {
    name: "equal-outcomes-zero-std",
    comment:
      "All outcomes equal: std 0 <= eps, so every outcome z is exactly 0 and GRPO = [0,0,0]. Steps still carry credit: " +
      "pooled labels [1,-1,-1,1,1], mean 0.2, variance 0.96, g = 0.8/sqrt(0.96), b = -1.2/sqrt(0.96). alpha 1: " +
      "traj 0 [g]; traj 1 [b,b] -> [2b, b]; traj 2 [g,g] -> [2g, g].",
    groups: [{ outcomes: [1, 1, 1], step_labels: [[1], [-1, -1], [1, 1]], step_token_counts: [[1], [2, 1], [1, 2]] }],
    config: { alpha: 1, normalize_std: true, eps: EPS },
    hand: [
      {
        grpo: [0, 0, 0],
        adca: [[0.8 / S96], [2 * (-1.2 / S96), -1.2 / S96], [2 * (0.8 / S96), 0.8 / S96]],
      },
    ],
  },
  {
    name: "all-labels-equal-steps-carry-nothing",
    comment:
      "Every step GOOD: the pooled step std is 0 <= eps, so step z = 0 and ADCA equals GRPO at every step. " +
      "Outcomes [1,0] -> [1,-1].",
    groups: [{ outcomes: [1, 0], step_labels: [[1, 1], [1]], step_token_counts: [[2, 2], [3]] }],
    config: { alpha: 0.7, normalize_std: true, eps: EPS },
    hand: [{ grpo: [1, -1], adca: [[1, 1], [-1]] }],
  },
  {
    name: "two-groups-normalized-independently",
    comment:
      "Statistics never cross groups. Group 0 is the balanced case (alpha 0.5): [[1.0,0.5],[-1.0,-1.5]]. Group 1: " +
      "outcomes [5,3] -> z [1,-1]; labels [[-1],[1]] -> z [-1,1]; rewards [-0.5+1, 0.5-1] = [0.5, -0.5].",
    groups: [
      { outcomes: [1, 0], step_labels: [[1, -1], [1, -1]], step_token_counts: [[1, 1], [1, 1]] },
      { outcomes: [5, 3], step_labels: [[-1], [1]], step_token_counts: [[2], [2]] },
    ],
    config: { alpha: 0.5, normalize_std: true, eps: EPS },
    hand: [
      { grpo: [1, -1], adca: [[1.0, 0.5], [-1.0, -1.5]] },
      { grpo: [1, -1], adca: [[0.5], [-0.5]] },
    ],
  },
];

function randomGroups(seed: number, groups: number): GroupSpec[] {
  const random = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  return Array.from({ length: groups }, () => {
    const size = int(2, 5);
    const outcomes = Array.from({ length: size }, () => round(random()));
    const stepCounts = outcomes.map(() => int(1, 5));
    return {
      outcomes,
      step_labels: stepCounts.map((n) =>
        random() < 0.15 ? null : Array.from({ length: n }, () => (random() < 0.55 ? 1 : -1) as StepLabelValue),
      ),
      step_token_counts: stepCounts.map((n) => Array.from({ length: n }, () => int(1, 4))),
    };
  });
}
advantageSpecs.push(
  {
    name: "bulk-random-groups",
    comment: "Seeded random groups (mulberry32 seed 7), some judgments failed; expected values from the implementation only.",
    groups: randomGroups(7, 4),
    config: { alpha: 0.3, normalize_std: true, eps: EPS },
  },
  {
    name: "bulk-random-groups-no-std",
    comment: "Seeded random groups (mulberry32 seed 11) without std normalization; expected values from the implementation only.",
    groups: randomGroups(11, 3),
    config: { alpha: 0.8, normalize_std: false, eps: EPS },
  },
);

function buildAdvantageCase(spec: AdvantageSpec) {
  const options = { alpha: spec.config.alpha, normalizeStd: spec.config.normalize_std, eps: spec.config.eps };
  const grpo: number[][] = [];
  const steps: number[][][] = [];
  const tokens: number[][][] = [];
  let fallbacks = 0;
  spec.groups.forEach((group, g) => {
    const result = adcaGroupAdvantages(
      { outcomes: group.outcomes, stepLabels: group.step_labels, stepCounts: group.step_token_counts.map((c) => c.length) },
      options,
    );
    const groupGrpo = grpoAdvantages(group.outcomes, options);
    const hand = spec.hand?.[g];
    if (hand) {
      assertClose(groupGrpo, hand.grpo, `${spec.name} group ${g} grpo`);
      result.stepAdvantages.forEach((row, i) => assertClose(row, hand.adca[i], `${spec.name} group ${g} traj ${i}`));
    }
    fallbacks += result.fellBack.filter(Boolean).length;
    grpo.push(groupGrpo);
    steps.push(result.stepAdvantages);
    tokens.push(result.stepAdvantages.map((row, i) => broadcastToStepTokens(row, group.step_token_counts[i])));
  });
  return {
    name: spec.name,
    comment: spec.comment,
    hand_checked: spec.hand !== undefined,
    groups: spec.groups,
    config: spec.config,
    expected: { grpo, adca_step_advantages: steps, adca_token_advantages: tokens, adca_fallbacks: fallbacks },
  };
}

// ---------------------------------------------------------------- losses

interface LossInputs {
  logprobs: number[][];
  old_logprobs: number[][];
  ref_logprobs: number[][] | null;
  advantages: number[][];
  mask: number[][];
  experience_guided: boolean[];
  entropies?: number[][];
}
type LossConfigJson = LossVector["config"];
interface LossSpec {
  name: string;
  comment: string;
  inputs: LossInputs;
  config: LossConfigJson;
  hand?: { token_losses: number[][]; loss: number; grad_logprobs: number[][]; kl?: number[][]; entropy?: number };
}

const baseConfig: LossConfigJson = {
  clip_low: 0.2,
  clip_high: 0.28,
  clip_high_boost: null,
  dual_clip_c: 3.0,
  kl_beta: 0,
  kl_type: "low_var_kl",
  aggregation: "token-mean",
};

/** Inputs from importance ratios: logprob = old + ln(ratio), so the ratio is exactly the stated number. */
function fromRatios(old: number[][], ratios: number[][], advantages: number[][], extra: Partial<LossInputs> = {}): LossInputs {
  return {
    logprobs: old.map((row, s) => row.map((o, t) => o + ln(ratios[s][t]))),
    old_logprobs: old,
    ref_logprobs: null,
    advantages,
    mask: old.map((row) => row.map(() => 1)),
    experience_guided: old.map(() => false),
    ...extra,
  };
}

const lossSpecs: LossSpec[] = [
  {
    name: "ratio-inside-clip-range",
    comment:
      "Ratios [1.1, 0.9, 1.0] all inside [0.8, 1.28]: no clipping, loss_t = -A_t*r_t = [-1.1, 0.9, -0.5] for " +
      "A = [1, -1, 0.5]. token-mean over 3: loss = -0.7/3. Gradient d(-A r)/dlogp = -A r, divided by 3: " +
      "[-1.1/3, 0.9/3, -0.5/3].",
    inputs: fromRatios([[-1.2, -0.7, -2.0]], [[1.1, 0.9, 1.0]], [[1, -1, 0.5]]),
    config: baseConfig,
    hand: { token_losses: [[-1.1, 0.9, -0.5]], loss: -0.7 / 3, grad_logprobs: [[-1.1 / 3, 0.9 / 3, -0.5 / 3]] },
  },
  {
    name: "clipped-above-positive-advantage",
    comment:
      "A > 0 and r above 1+0.28: the ratio is e, clipped to 1.28, so the loss is -1.28*A = -1.28; r = 1.5 with A = 2 " +
      "gives -2.56; both have gradient 0 (clipped branch is constant). r = 1.2 is inside: -1.2, gradient -1.2/3. " +
      "loss = (-1.28 - 2.56 - 1.2)/3 = -1.68.",
    inputs: fromRatios([[-0.5, -1.5, -1.0]], [[E, 1.5, 1.2]], [[1, 2, 1]]),
    config: baseConfig,
    hand: { token_losses: [[-1.28, -2.56, -1.2]], loss: -1.68, grad_logprobs: [[0, 0, -1.2 / 3]] },
  },
  {
    name: "below-floor-positive-advantage-not-clipped",
    comment:
      "A > 0 and r below 1-0.2: max(-A r, -A*0.8) picks the unclipped -A r (pessimistic side), so the gradient " +
      "flows. r = 0.5, A = 1: -0.5; r = 0.7, A = 3: -2.1. loss = -1.3, grads [-0.5/2, -2.1/2].",
    inputs: fromRatios([[-2.0, -0.3]], [[0.5, 0.7]], [[1, 3]]),
    config: baseConfig,
    hand: { token_losses: [[-0.5, -2.1]], loss: -1.3, grad_logprobs: [[-0.25, -1.05]] },
  },
  {
    name: "clipped-below-negative-advantage",
    comment:
      "A < 0 and r below 0.8: the ratio is clipped to 0.8, loss = -A*0.8: r = 0.5, A = -1 gives 0.8; r = 0.1, A = -2 " +
      "gives 1.6; gradient 0 for both. loss = 1.2.",
    inputs: fromRatios([[-1.0, -0.2]], [[0.5, 0.1]], [[-1, -2]]),
    config: baseConfig,
    hand: { token_losses: [[0.8, 1.6]], loss: 1.2, grad_logprobs: [[0, 0]] },
  },
  {
    name: "above-ceiling-negative-advantage-not-clipped",
    comment:
      "A < 0 and r above 1.28 but below c = 3: the unclipped -A r is larger, so it is kept with gradient -A r. " +
      "r = 1.5, A = -1: 1.5; r = 2, A = -0.5: 1.0 (dual bound 1.5 not reached). loss = 1.25, grads [1.5/2, 1.0/2].",
    inputs: fromRatios([[-0.4, -2.5]], [[1.5, 2.0]], [[-1, -0.5]]),
    config: baseConfig,
    hand: { token_losses: [[1.5, 1.0]], loss: 1.25, grad_logprobs: [[0.75, 0.5]] },
  },
  {
    name: "dual-clip-active",
    comment:
      "A < 0 and r > c = 3: the loss is capped at -c*A. r = e^2 = 7.389, A = -1: min(7.389, 3) = 3; r = 4, A = -2: " +
      "min(8, 6) = 6; gradient 0 for both. loss = 4.5.",
    inputs: fromRatios([[-3.0, -1.0]], [[E * E, 4]], [[-1, -2]]),
    config: baseConfig,
    hand: { token_losses: [[3, 6]], loss: 4.5, grad_logprobs: [[0, 0]] },
  },
  {
    name: "dual-clip-off",
    comment:
      "The same inputs with dual_clip_c null: the unclipped -A r is kept: [e^2, 8], gradient -A r / 2 = [e^2/2, 4]. " +
      "loss = (e^2 + 8)/2.",
    inputs: fromRatios([[-3.0, -1.0]], [[E * E, 4]], [[-1, -2]]),
    config: { ...baseConfig, dual_clip_c: null },
    hand: { token_losses: [[E * E, 8]], loss: (E * E + 8) / 2, grad_logprobs: [[(E * E) / 2, 4]] },
  },
  {
    name: "boosted-ceiling-for-experience-guided",
    comment:
      "Selective boosting: sequence 0 is experience-guided, so its ceiling is 1 + clip_high_boost = 1.4 (the boost " +
      "replaces clip_high, it is not added to it); sequence 1 keeps 1.28. " +
      "Ratios [1.35, 1.6], A = 1 in both. Seq 0: 1.35 inside -> -1.35, grad -1.35; 1.6 clipped to 1.4 -> -1.4, grad 0. " +
      "Seq 1: both clipped to 1.28 -> -1.28, grad 0. token-mean over 4: loss = -5.31/4 = -1.3275; grad [-1.35/4, 0].",
    inputs: fromRatios([[-1.0, -0.5], [-1.0, -0.5]], [[1.35, 1.6], [1.35, 1.6]], [[1, 1], [1, 1]], {
      experience_guided: [true, false],
    }),
    config: { ...baseConfig, clip_high_boost: 0.4 },
    hand: { token_losses: [[-1.35, -1.4], [-1.28, -1.28]], loss: -1.3275, grad_logprobs: [[-1.35 / 4, 0], [0, 0]] },
  },
  {
    name: "boost-null-means-no-boost",
    comment:
      "The same inputs with clip_high_boost null: the guided sequence gets the ordinary ceiling 1.28 too, every token " +
      "is clipped: loss -1.28, all gradients 0.",
    inputs: fromRatios([[-1.0, -0.5], [-1.0, -0.5]], [[1.35, 1.6], [1.35, 1.6]], [[1, 1], [1, 1]], {
      experience_guided: [true, false],
    }),
    config: baseConfig,
    hand: { token_losses: [[-1.28, -1.28], [-1.28, -1.28]], loss: -1.28, grad_logprobs: [[0, 0], [0, 0]] },
  },
  {
    name: "kl-penalty-low-var-kl",
    comment:
      "r = 1 everywhere (logprobs = old), A = [1, 0, 0.5]: pg losses [-1, 0, -0.5], pg grads [-1, 0, -0.5]. " +
      "k3 with x = ref - logp: x = ln2 -> kl = 2 - ln2 - 1 = 0.3068528, dkl/dlogp = 1 - e^x = -1; x = -ln2 -> " +
      "kl = 0.5 + ln2 - 1 = 0.1931472, dkl/dlogp = 0.5; x = 0 -> 0, 0. beta 0.1, token-mean over 3: " +
      "loss = -1.5/3 + 0.1*0.5/3 = -0.4833333; grads [(-1 - 0.1)/3, (0 + 0.05)/3, -0.5/3].",
    inputs: {
      ...fromRatios([[-1.0, -2.0, -0.5]], [[1, 1, 1]], [[1, 0, 0.5]]),
      ref_logprobs: [[-1.0 + ln(2), -2.0 - ln(2), -0.5]],
    },
    config: { ...baseConfig, kl_beta: 0.1 },
    hand: {
      token_losses: [[-1, 0, -0.5]],
      kl: [[1 - ln(2), ln(2) - 0.5, 0]],
      loss: -1.5 / 3 + (0.1 * 0.5) / 3,
      grad_logprobs: [[-1.1 / 3, 0.05 / 3, -0.5 / 3]],
    },
  },
  {
    name: "kl-clamped-at-10",
    comment:
      "x = ref - logp = 3: e^3 - 3 - 1 = 16.09 > 10, clamped to 10, gradient 0. x = -20: e^-20 + 20 - 1 = 19 > 10, " +
      "clamped to 10. A = 0, so the pg part is 0. beta 0.5: loss = 0.5 * 10 = 5, all gradients 0.",
    inputs: { ...fromRatios([[-3.0, -0.1]], [[1, 1]], [[0, 0]]), ref_logprobs: [[0.0, -20.1]] },
    config: { ...baseConfig, kl_beta: 0.5 },
    hand: { token_losses: [[0, 0]], kl: [[10, 10]], loss: 5, grad_logprobs: [[0, 0]] },
  },
  {
    name: "masked-tokens-contribute-nothing",
    comment:
      "Mask [1,0,1,0]: the masked tokens have wild ratios (e^5), advantages and reference logprobs but get loss, KL " +
      "and gradient 0 and do not count in the mean. Trained tokens: r = 1.1, A = 1 -> -1.1; r = 0.9, A = -1 -> 0.9; " +
      "ref = logp there, so KL 0. loss = -0.2/2 = -0.1, grads [-1.1/2, 0, 0.9/2, 0].",
    inputs: {
      ...fromRatios([[-1.0, -6.0, -0.5, -7.0]], [[1.1, Math.exp(5), 0.9, Math.exp(5)]], [[1, 5, -1, -5]]),
      ref_logprobs: [[-1.0 + ln(1.1), 0.0, -0.5 + ln(0.9), -30.0]],
      mask: [[1, 0, 1, 0]],
    },
    config: { ...baseConfig, kl_beta: 0.1 },
    hand: { token_losses: [[-1.1, 0, 0.9, 0]], kl: [[0, 0, 0, 0]], loss: -0.1, grad_logprobs: [[-0.55, 0, 0.45, 0]] },
  },
  {
    name: "seq-mean-token-mean",
    comment:
      "Sequence 0 has one trained token (padding masked): r = 1.1, A = 1 -> -1.1. Sequence 1: r = 1, A = [1,1,-2] -> " +
      "[-1,-1,2], mean 0. seq-mean-token-mean = (-1.1 + 0)/2 = -0.55. Token weights 1/(1*2) and 1/(3*2): " +
      "grads [-0.55, 0, 0], [-1/6, -1/6, 2/6].",
    inputs: {
      ...fromRatios([[-1.0, -1.0, -1.0], [-0.2, -0.3, -0.4]], [[1.1, 1, 1], [1, 1, 1]], [[1, 0, 0], [1, 1, -2]]),
      mask: [[1, 0, 0], [1, 1, 1]],
    },
    config: { ...baseConfig, aggregation: "seq-mean-token-mean" },
    hand: {
      token_losses: [[-1.1, 0, 0], [-1, -1, 2]],
      loss: -0.55,
      grad_logprobs: [[-0.55, 0, 0], [-1 / 6, -1 / 6, 2 / 6]],
    },
  },
  {
    name: "token-mean-same-inputs",
    comment:
      "The same inputs aggregated by token-mean: every trained token counts 1/4: loss = (-1.1 - 1 - 1 + 2)/4 = -0.275, " +
      "grads [-1.1/4, 0, 0], [-0.25, -0.25, 0.5].",
    inputs: {
      ...fromRatios([[-1.0, -1.0, -1.0], [-0.2, -0.3, -0.4]], [[1.1, 1, 1], [1, 1, 1]], [[1, 0, 0], [1, 1, -2]]),
      mask: [[1, 0, 0], [1, 1, 1]],
    },
    config: baseConfig,
    hand: {
      token_losses: [[-1.1, 0, 0], [-1, -1, 2]],
      loss: -0.275,
      grad_logprobs: [[-1.1 / 4, 0, 0], [-0.25, -0.25, 0.5]],
    },
  },
  {
    name: "seq-mean-token-mean-skips-empty-sequence",
    comment:
      "A sequence with no trained token is left out of the sequence count (as verl's exclude_fully_masked_seq " +
      "option does; counting it would halve the loss to -1). Sequence 1: r = 1, A = [1, 3] -> [-1, -3], mean -2 = " +
      "loss; grads [-1/2, -3/2].",
    inputs: { ...fromRatios([[-1.0, -1.0], [-0.5, -0.6]], [[2, 2], [1, 1]], [[4, 4], [1, 3]]), mask: [[0, 0], [1, 1]] },
    config: { ...baseConfig, aggregation: "seq-mean-token-mean" },
    hand: { token_losses: [[0, 0], [-1, -3]], loss: -2, grad_logprobs: [[0, 0], [-0.5, -1.5]] },
  },
  {
    name: "entropy-bonus-seq-mean-token-mean",
    comment:
      "entropies are the learner's full-vocabulary entropy per position (the trainer computes them from the logits). " +
      "Seq 0: mask [1,0], r = 1, A = [1,5] -> pg [-1, 0], entropies [2, 9] (9 masked). Seq 1: mask [1,1], r = 1, " +
      "A = [0,-1] -> pg [0, 1], entropies [1, 3]. seq-mean-token-mean weights: 1/(1*2) = 0.5 and 1/(2*2) = 0.25. " +
      "pg = 0.5*-1 + 0.25*(0 + 1) = -0.25; entropy = 0.5*2 + 0.25*(1 + 3) = 2; coeff 0.05: loss = -0.25 - 0.1 = -0.35. " +
      "The bonus depends on the whole distribution, not on the sampled token's logprob: grads [-0.5, 0], [0, 0.25].",
    inputs: {
      ...fromRatios([[-1.0, -2.0], [-0.5, -1.5]], [[1, 1], [1, 1]], [[1, 5], [0, -1]]),
      mask: [[1, 0], [1, 1]],
      entropies: [[2, 9], [1, 3]],
    },
    config: { ...baseConfig, aggregation: "seq-mean-token-mean", entropy_coeff: 0.05 },
    hand: { token_losses: [[-1, 0], [0, 1]], loss: -0.35, grad_logprobs: [[-0.5, 0], [0, 0.25]], entropy: 2 },
  },
  {
    name: "zero-advantage",
    comment: "A = 0: loss 0 and gradient 0 whatever the ratio (0.5, 1, 3).",
    inputs: fromRatios([[-1.0, -1.0, -1.0]], [[0.5, 1, 3]], [[0, 0, 0]]),
    config: baseConfig,
    hand: { token_losses: [[0, 0, 0]], loss: 0, grad_logprobs: [[0, 0, 0]] },
  },
];

function randomLossInputs(seed: number, sequences: number, tokens: number): LossInputs {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const grid = (f: () => number) => Array.from({ length: sequences }, () => Array.from({ length: tokens }, f));
  const old = grid(() => round(-0.05 - 2 * random()));
  const logprobs = old.map((row) => row.map((o) => round(o + 0.4 * normal())));
  return {
    logprobs,
    old_logprobs: old,
    ref_logprobs: logprobs.map((row) => row.map((l) => round(l + 0.3 * normal()))),
    advantages: grid(() => round(1.5 * normal())),
    mask: grid(() => (random() < 0.8 ? 1 : 0)),
    experience_guided: Array.from({ length: sequences }, () => random() < 0.5),
  };
}
lossSpecs.push(
  {
    name: "bulk-random-token-mean",
    comment: "Seeded random inputs (mulberry32 seed 3), every feature on; expected values from the implementation only.",
    inputs: randomLossInputs(3, 3, 6),
    config: { ...baseConfig, clip_high_boost: 0.4, kl_beta: 0.05 },
  },
  {
    name: "bulk-random-seq-mean-token-mean",
    comment: "Seeded random inputs (mulberry32 seed 5), every feature on; expected values from the implementation only.",
    inputs: randomLossInputs(5, 4, 5),
    config: { ...baseConfig, clip_high_boost: 0.4, kl_beta: 0.05, aggregation: "seq-mean-token-mean" },
  },
  {
    name: "bulk-random-entropy-bonus",
    comment: "Seeded random inputs (mulberry32 seed 7) with entropies, every feature on; expected values from the implementation only.",
    inputs: { ...randomLossInputs(7, 3, 5), entropies: randomEntropies(8, 3, 5) },
    config: { ...baseConfig, clip_high_boost: 0.4, kl_beta: 0.05, entropy_coeff: 0.01 },
  },
);

function randomEntropies(seed: number, sequences: number, tokens: number): number[][] {
  const random = mulberry32(seed);
  return Array.from({ length: sequences }, () => Array.from({ length: tokens }, () => round(4 * random())));
}

function buildLossCase(spec: LossSpec) {
  const { inputs } = spec;
  const result = policyLoss(
    {
      logprobs: inputs.logprobs,
      oldLogprobs: inputs.old_logprobs,
      refLogprobs: inputs.ref_logprobs,
      advantages: inputs.advantages,
      mask: inputs.mask,
      experienceGuided: inputs.experience_guided,
      entropies: inputs.entropies ?? null,
    },
    lossConfigFromJson(spec.config),
  );
  if (spec.hand) {
    spec.hand.token_losses.forEach((row, s) => assertClose(result.tokenLosses[s], row, `${spec.name} token_losses`));
    spec.hand.grad_logprobs.forEach((row, s) => assertClose(result.gradLogprobs[s], row, `${spec.name} grad`));
    spec.hand.kl?.forEach((row, s) => assertClose(result.kl![s], row, `${spec.name} kl`));
    assertClose([result.loss], [spec.hand.loss], `${spec.name} loss`);
    if (spec.hand.entropy !== undefined) assertClose([result.entropy], [spec.hand.entropy], `${spec.name} entropy`);
  }
  return {
    name: spec.name,
    comment: spec.comment,
    hand_checked: spec.hand !== undefined,
    inputs,
    config: spec.config,
    expected: {
      token_losses: result.tokenLosses,
      kl: result.kl,
      loss: result.loss,
      ...(spec.config.entropy_coeff ? { entropy: result.entropy } : {}),
      grad_logprobs: result.gradLogprobs,
      ratios: result.ratios,
      clip_fraction: result.clipFraction,
    },
  };
}

/** JSON with arrays of plain values kept on one line, so a case reads as a table. */
function formatJson(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== "object")) return JSON.stringify(value);
    if (value.every((v) => Array.isArray(v) && v.every((x) => x === null || typeof x !== "object"))) {
      return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
    }
    const inner = indent + "  ";
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const inner = indent + "  ";
    const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`);
    return `{\n${entries.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

const vectors = {
  version: 1,
  description:
    "Shared vectors for GRPO/ADCA-GRPO advantages and the PPO policy loss. Written by " +
    "scripts/generate-attribution-vectors.ts; the TypeScript tests (src/evolve/attributing) and the Python trainer " +
    "tests both check against it to 1e-6. Rows of a loss case have equal length (padding has mask 0). Extend only by " +
    "adding fields.",
  advantages: advantageSpecs.map(buildAdvantageCase),
  losses: lossSpecs.map(buildLossCase),
};

mkdirSync("test/vectors", { recursive: true });
writeFileSync("test/vectors/attribution.json", formatJson(vectors, "") + "\n");
console.log(
  `wrote test/vectors/attribution.json: ${vectors.advantages.length} advantage cases, ${vectors.losses.length} loss cases`,
);
