// The SFT warm start on key-chain with the tiny model and the real local trainer, and the token layout of reference
// sequences against the template and against real token rollouts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { createToolFormat, runRollout, trainingSequences, type Trajectory } from "../agent/index.js";
import { BfclEnvironment, KeyChainEnvironment, type Environment } from "../env/index.js";
import { Qwen2ChatTemplate, Tokenizer } from "../llm/index.js";
import type { TrainingClient } from "../train/index.js";
import { useLocalTrainer } from "../train/test-support/local-trainer.js";
import { parseConfig } from "./config.js";
import { randomAnswerSequences, readReferences, referenceSequence, sftStage } from "./sft-stage.js";

const hermes = createToolFormat("hermes");
const env = new KeyChainEnvironment({ length: 3, symbols: 8, seed: 7 });
let template: Qwen2ChatTemplate;
const localTrainer = useLocalTrainer({
  seed: 3,
  name: "sft",
  ready: ({ modelDir }) => (template = new Qwen2ChatTemplate({ tokenizer: Tokenizer.fromFile(join(modelDir, "tokenizer.json")) })),
});

/** The runs of a sequence's tokens with mask 1, decoded. */
function trainedSpans(sequence: { tokens: number[]; lossMask: number[] }): string[] {
  const spans: string[] = [];
  let run: number[] = [];
  sequence.tokens.forEach((token, i) => {
    if (sequence.lossMask[i] === 1) run.push(token);
    else if (run.length > 0) (spans.push(template.decode(run)), (run = []));
  });
  if (run.length > 0) spans.push(template.decode(run));
  return spans;
}

async function greedyRollouts(training: TrainingClient, name: string, tasks: string[]): Promise<Trajectory[]> {
  const sampler = await training.saveWeightsForSampler(name);
  const trajectories: Trajectory[] = [];
  for (const taskId of tasks) {
    trajectories.push(
      await runRollout({ env, taskId, model: { kind: "tokens", sampler, template }, toolFormat: hermes, maxSteps: 3, maxTokensPerCall: 2, temperature: 0 }),
    );
  }
  return trajectories;
}

const successRate = (trajectories: Trajectory[]) => trajectories.filter((t) => t.success).length / trajectories.length;

test("key-chain reference sequence: the conversation rendered whole, with only the assistant's letters and end tokens trained", async () => {
  const sequence = (await referenceSequence({ env, taskId: "kc-502", template }))!;
  const conversation = (await env.referenceSolution("kc-502"))!;
  assert.deepEqual(sequence.tokens, template.render(conversation, { addGenerationPrompt: false }));
  assert.deepEqual(trainedSpans(sequence), [5, 0, 2].map((digit) => `${env.secret[digit]}<|im_end|>`));
  // Each trained span follows the generation prompt.
  const header = template.renderContinuation([], { addGenerationPrompt: true });
  const first = sequence.lossMask.indexOf(1);
  assert.deepEqual(sequence.tokens.slice(first - header.length, first), header);
});

test("BFCL reference sequence: calls written as the rollouts parse them, results and the returning tools out of the loss", async () => {
  const bfcl = new BfclEnvironment();
  const sequence = (await referenceSequence({ env: bfcl, taskId: "multi_turn_miss_func_2", template }))!;
  const reference = (await bfcl.referenceSolution!("multi_turn_miss_func_2"))!;
  const assistants = reference.filter((m) => m.role === "assistant");
  assert.deepEqual(trainedSpans(sequence), assistants.map((m) => `${hermes.format(m.tool_calls ?? [], m.content)}<|im_end|>`));
  const text = template.decode(sequence.tokens);
  assert.ok(text.startsWith(template.decode(template.render([{ role: "system", content: reference[0].content }], { addGenerationPrompt: false })).slice(0, -"<|im_end|>".length)));
  assert.match(text, /<tool_response>\n\{"current_working_directory": "/);
  assert.match(text, /New tools are available\.[\s\S]*"name":"cp"/); // cp is held back until turn 4
  assert.ok(sequence.tokens.length > 2000);
});

test("SFT on key-chain references lifts held-out greedy success far above chance, in the token layout rollouts sample in", async () => {
  const training = await localTrainer().client.createTrainingClient({ baseModel: "tiny", loraRank: 0, seed: 0 });
  const heldOut = (await env.listTasks("test")).slice(0, 24);
  const before = successRate(await greedyRollouts(training, "before-sft", heldOut));

  const config = parseConfig({
    env: { type: "key-chain" },
    policy: { base_model: localTrainer().modelDir },
    sft: { enabled: true, epochs: 6, tasks: 64, batch_size: 8, learning_rate: 3e-3 },
  });
  const lines: string[] = [];
  const metrics = await sftStage({ config, env, training, template, tasks: await env.listTasks("train"), log: (line) => lines.push(line) });
  const rollouts = await greedyRollouts(training, "after-sft", heldOut);
  const after = successRate(rollouts);
  console.log(`held-out greedy success ${before.toFixed(3)} -> ${after.toFixed(3)}; loss per token ${metrics["sft/loss_epoch_1"].toFixed(3)} -> ${metrics["sft/loss"].toFixed(3)}`);

  assert.equal(metrics["sft/sequences"], 64);
  assert.equal(metrics["sft/tokens"], 64 * 3 * 2); // a letter and <|im_end|> per lock
  assert.ok(metrics["sft/loss"] < 0.25 * metrics["sft/loss_epoch_1"], JSON.stringify(metrics));
  // Chance is (1/8)^3 for a model that already answers with single letters; the random model does not even do that.
  assert.ok(before <= 1 / 24, `before SFT: ${before}`);
  assert.ok(after >= 0.6, `after SFT: ${after}`);
  assert.ok(lines.some((line) => /epoch 6\/6/.test(line)));

  // A successful greedy rollout of the trained policy is token for token the reference sequence SFT trained on.
  const solved = rollouts.filter((t) => t.success).slice(0, 4);
  for (const trajectory of solved) {
    const [segments] = trainingSequences(trajectory);
    const sequence = (await referenceSequence({ env, taskId: trajectory.taskId, template }))!;
    assert.deepEqual(sequence.tokens, segments.flatMap((s) => s.tokens), trajectory.taskId);
    assert.deepEqual(sequence.lossMask, segments.flatMap((s) => s.lossMask), trajectory.taskId);
  }
});

test("SFT needs an environment with reference solutions", async () => {
  const training = await localTrainer().client.createTrainingClient({ baseModel: "tiny", loraRank: 0 });
  const config = parseConfig({ env: { type: "key-chain" }, policy: { base_model: "tiny" }, sft: { enabled: true } });
  const plain: Environment = { name: "plain", listTasks: (split) => env.listTasks(split), profile: () => env.profile(), create: (taskId) => env.create(taskId) };
  await assert.rejects(sftStage({ config, env: plain, training, template, tasks: ["kc-000"] }), /sft\.enabled needs reference solutions, and environment plain has none/);
});

test("the warm start reads each reference once, with random answers and drills built from the same reads", async () => {
  const training = await localTrainer().client.createTrainingClient({ baseModel: "tiny", loraRank: 0, seed: 0 });
  const reads = new Map<string, number>();
  const counting: Environment = {
    name: "counting",
    listTasks: (split) => env.listTasks(split),
    profile: () => env.profile(),
    create: (taskId) => env.create(taskId),
    referenceSolution: (taskId) => {
      reads.set(taskId, (reads.get(taskId) ?? 0) + 1);
      return env.referenceSolution(taskId);
    },
  };
  const config = parseConfig({
    env: { type: "key-chain" },
    policy: { base_model: localTrainer().modelDir },
    sft: { enabled: true, epochs: 1, tasks: 8, batch_size: 8, answers: "random", experience_drills: 4 },
  });
  const metrics = await sftStage({ config, env: counting, training, template, tasks: await env.listTasks("train") });
  assert.equal(metrics["sft/sequences"], 8);
  assert.equal(metrics["sft/drills"], 4);
  assert.equal(reads.size, 8);
  assert.deepEqual([...reads.values()], Array(8).fill(1));
});

test("random answers: the reference's conversation with each trained letter drawn from the references' answers, right about once in eight", async () => {
  const tasks = (await env.listTasks("train")).slice(0, 60);
  const config = (seed: number) => parseConfig({ run: { seed }, env: { type: "key-chain" }, policy: { base_model: "m" }, sft: { enabled: true, answers: "random" } });
  const references = await readReferences(env, tasks);
  const random = await randomAnswerSequences({ config: config(0), env, template, references });
  assert.equal(random.sequences.length, 60);
  assert.equal(random.turns, 60 * 3);
  let differs = 0;
  for (const [i, taskId] of tasks.entries()) {
    const reference = (await referenceSequence({ env, taskId, template }))!;
    const sequence = random.sequences[i];
    // Everything the environment and the prompt say is the reference's, token for token; only the letters differ.
    const untrained = (s: { tokens: number[]; lossMask: number[] }) => s.tokens.filter((_, j) => s.lossMask[j] === 0);
    assert.deepEqual(untrained(sequence), untrained(reference), taskId);
    const spans = trainedSpans(sequence);
    assert.equal(spans.length, 3);
    for (const span of spans) assert.match(span, /^[a-h]<\|im_end\|>$/, taskId);
    if (spans.join() !== trainedSpans(reference).join()) differs += 1;
  }
  // One letter per digit, eight letters: a drawn letter is the right one about one time in eight (180 turns).
  assert.ok(random.right >= 5 && random.right <= 45, `${random.right} of 180 drawn letters right`);
  assert.ok(differs >= 55, `${differs} of 60 sequences differ from their reference`);
  assert.deepEqual((await randomAnswerSequences({ config: config(0), env, template, references })).sequences, random.sequences);
  assert.notDeepEqual((await randomAnswerSequences({ config: config(1), env, template, references })).sequences, random.sequences);
  // One answer in every reference: nothing to draw from.
  const single = new KeyChainEnvironment({ length: 2, symbols: 4 });
  await assert.rejects(randomAnswerSequences({ config: config(0), env: single, template, references: await readReferences(single, ["kc-00"]) }), /sft\.answers: random: .* 1 distinct answer\(s\); a random answer needs two/);
});

test("SFT with random answers teaches the format (one letter) and not the map: held-out greedy success stays near chance", async () => {
  const training = await localTrainer().client.createTrainingClient({ baseModel: "tiny", loraRank: 0, seed: 0 });
  const heldOut = (await env.listTasks("test")).slice(0, 24);
  const config = parseConfig({
    env: { type: "key-chain" },
    policy: { base_model: localTrainer().modelDir },
    sft: { enabled: true, epochs: 6, tasks: 64, batch_size: 8, learning_rate: 3e-3, answers: "random" },
  });
  const metrics = await sftStage({ config, env, training, template, tasks: await env.listTasks("train") });
  const rollouts = await greedyRollouts(training, "after-random-sft", heldOut);
  const answers = rollouts.flatMap((t) => t.steps.map((step) => step.action.content ?? ""));
  const letters = answers.filter((answer) => /^[a-h]$/.test(answer.trim())).length;
  console.log(`random-answer SFT: ${letters}/${answers.length} greedy answers are one letter; held-out success ${successRate(rollouts).toFixed(3)}; drawn answers right ${metrics["sft/answers_right"].toFixed(3)}`);
  assert.equal(metrics["sft/sequences"], 64);
  assert.ok(metrics["sft/answers_right"] < 0.3, JSON.stringify(metrics));
  // The same warm start with reference answers solves at least 0.6 of these chains (the test above); the random model
  // answers no letter at all.
  assert.ok(letters >= 0.9 * answers.length, `${letters} of ${answers.length} answers are one letter`);
  assert.ok(successRate(rollouts) <= 0.2, `held-out success ${successRate(rollouts)}`);
});
