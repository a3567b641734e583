// Training hygiene of self-navigating, the way AgentEvolver means it: the datum of an experience-guided rollout is
// rebuilt from the context *without* the injected experience, its old logprobs are the ones sampled *with* it, and
// the wider high clip applies exactly to those guided (off-policy) samples. Real Qwen2 template and tokenizer (the
// tiny model's), a real environment, a sampler whose logprob depends on whether it saw the experience.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runRollout, type Trajectory } from "../agent/index.js";
import { KeyChainEnvironment } from "../env/index.js";
import { policyLoss, PolicyLossConfig } from "../evolve/attributing/index.js";
import { Qwen2ChatTemplate, Tokenizer, writeTinyModel, type SampleRequest, type TokenSampler } from "../llm/index.js";
import { buildDatum, trajectorySequences } from "./datums.js";

const EXPERIENCE = "Experience: when you are told 0 0, answer the letter that opened it before.";
const GUIDED_LOGPROB = -0.25;
const UNGUIDED_LOGPROB = -2;
let dir: string;
let template: Qwen2ChatTemplate;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "evolver-datums-experience-"));
  writeTinyModel(dir, { formats: ["hf"] });
  template = new Qwen2ChatTemplate({ tokenizer: Tokenizer.fromFile(dir) });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Answers "b" every time; the logprob says whether the experience was in the prompt it sampled from. */
const sampler: TokenSampler = {
  id: "experience-aware",
  async sample(request: SampleRequest) {
    const sawExperience = template.decode(request.promptTokens).includes(EXPERIENCE);
    const tokens = [...template.encode("b"), ...template.stopTokens];
    return { tokens, logprobs: tokens.map(() => (sawExperience ? GUIDED_LOGPROB : UNGUIDED_LOGPROB)), stopReason: "stop" as const };
  },
};

/** Guided: one experience at the episode's start (as retrieval: episode gives), or one before every turn (turn). */
async function rollout(guided: boolean | "every turn"): Promise<Trajectory> {
  const env = new KeyChainEnvironment({ length: 2, symbols: 4 });
  const experience = guided === "every turn" ? () => EXPERIENCE : guided ? ({ step }: { step: number }) => (step === 0 ? EXPERIENCE : undefined) : undefined;
  return runRollout({ env, taskId: "kc-00", model: { kind: "tokens", sampler, template }, maxSteps: 2, experience });
}

function datumsOf(trajectory: Trajectory) {
  const advantages = trajectory.segments.map((s) => s.tokens.map(() => 1));
  return trajectorySequences(trajectory, advantages).map(buildDatum);
}

function containsRun(haystack: readonly number[], needle: readonly number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

test("a guided rollout's datum is its context without the experience: no experience token, the unguided rollout's input", async () => {
  const guided = await rollout(true);
  const unguided = await rollout(false);
  assert.equal(guided.experienceGuided, true);
  const experienceTokens = guided.segments.filter((s) => s.source === "experience").flatMap((s) => s.tokens);
  assert.ok(experienceTokens.length > 10);
  const [datum] = datumsOf(guided);
  const inputTokens = datum.model_input.chunks[0].tokens;
  const everyToken = [...inputTokens, ...(datum.loss_fn_inputs.target_tokens.data as number[])];
  assert.ok(!containsRun(everyToken, experienceTokens), "the experience's tokens are in the datum");
  assert.doesNotMatch(template.decode(inputTokens), /Experience:/);
  // Stripped exactly: the same tokens an unguided rollout of the same task and replies trains on.
  const [plain] = datumsOf(unguided);
  assert.deepEqual(inputTokens, plain.model_input.chunks[0].tokens);
  assert.deepEqual(datum.loss_fn_inputs.weights.data, plain.loss_fn_inputs.weights.data);
});

test("experience before every turn: each in front of its turn's observation, every one stripped from the datum", async () => {
  const guided = await rollout("every turn");
  const experiences = guided.segments.filter((s) => s.source === "experience");
  assert.equal(experiences.length, 2);
  // The second sits after the first answer and before the user's next digit, in the one sequence of the episode.
  const text = template.decode(guided.segments.flatMap((s) => s.tokens));
  const second = text.indexOf(EXPERIENCE, text.indexOf("<|im_start|>assistant"));
  assert.ok(second > 0 && text.indexOf("<|im_start|>user\n0<|im_end|>", second) > second, text);
  assert.ok(experiences.every((s) => s.lossMask.every((m) => m === 0)));
  const [datum] = datumsOf(guided);
  const [plain] = datumsOf(await rollout(false));
  assert.deepEqual(datum.model_input.chunks[0].tokens, plain.model_input.chunks[0].tokens);
  assert.deepEqual(datum.loss_fn_inputs.target_tokens.data, plain.loss_fn_inputs.target_tokens.data);
  assert.deepEqual(datum.loss_fn_inputs.weights.data, plain.loss_fn_inputs.weights.data);
  // Both answers were sampled with an experience in view.
  const weights = datum.loss_fn_inputs.weights.data as number[];
  assert.deepEqual((datum.loss_fn_inputs.logprobs.data as number[]).filter((_, i) => weights[i] === 1), [GUIDED_LOGPROB, GUIDED_LOGPROB, GUIDED_LOGPROB, GUIDED_LOGPROB]);
});

test("the old logprobs of a guided datum are the ones sampled with the experience in view", async () => {
  const [datum] = datumsOf(await rollout(true));
  const weights = datum.loss_fn_inputs.weights.data as number[];
  const logprobs = datum.loss_fn_inputs.logprobs.data as number[];
  const trained = logprobs.filter((_, i) => weights[i] === 1);
  assert.equal(trained.length, 4); // two steps of "b" + <|im_end|>
  assert.ok(trained.every((l) => l === GUIDED_LOGPROB), JSON.stringify(trained));
});

test("the boosted high clip applies exactly to guided samples", async () => {
  const datums = [...datumsOf(await rollout(true)), ...datumsOf(await rollout(false))];
  assert.deepEqual(datums.map((d) => d.loss_fn_inputs.experience_guided.data), [[1], [0]]);
  // The learner now gives every trained token a ratio of 1.4 to its old logprob: past 1 + clip_high (1.28), within
  // 1 + clip_high_boost (1.5). With a positive advantage, only the guided datum's tokens are left unclipped.
  const old = datums.map((d) => d.loss_fn_inputs.logprobs.data as number[]);
  const mask = datums.map((d) => d.loss_fn_inputs.weights.data as number[]);
  const result = policyLoss(
    {
      logprobs: old.map((row) => row.map((l) => l + Math.log(1.4))),
      oldLogprobs: old,
      refLogprobs: null,
      advantages: mask.map((row) => row.map(() => 1)),
      mask,
      experienceGuided: datums.map((d) => d.loss_fn_inputs.experience_guided.data[0] === 1),
    },
    PolicyLossConfig.parse({ clip_low: 0.2, clip_high: 0.28, clip_high_boost: 0.5 }),
  );
  const gradients = result.gradLogprobs.map((row, s) => row.filter((_, t) => mask[s][t] === 1));
  assert.ok(gradients[0].every((g) => g !== 0), "guided tokens keep their gradient");
  assert.ok(gradients[1].every((g) => g === 0), "unguided tokens are clipped");
  assert.equal(result.clipFraction, 0.5);
});
