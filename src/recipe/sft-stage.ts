// The SFT warm start: before the first iteration the policy imitates the environment's reference solutions (BFCL's
// ground truth, key-chain's secret letters), with cross-entropy on its own turns only.
//
// Token layout. A reference is replayed as a token rollout (src/agent's runRollout, the rollout stage's tool-call
// format) whose sampler answers each model call with the next reference turn, written as the policy writes it and
// closed by the template's end-of-turn token. So the sequence is built the way every sampled rollout is: the prompt
// rendered with the generation prompt, each assistant completion (in the loss), then the continuation of what the
// environment answered (out of the loss), tool descriptions and tools added mid-episode included. Training and
// sampling see the same tokens, and a reference the environment does not score as a success is never learnt from.
//
// Random answers (sft.answers: random). The reference teaches two things: the format of an answer and which answer
// each turn takes (key-chain: one letter, and the secret letter of each seed digit). An instruction-tuned model
// knows the first and not the second. With random answers the same tasks' sequences are built with each turn's
// answer drawn at random from all the learnt references' turn answers, and replayed through the environment without
// the success check (most of them fail): the policy learns to answer as the references do, not what to answer.
//
// Experience drills (sft.experience_drills). Self-navigating puts retrieved experiences in front of a task, and
// assumes a policy that does what they say: a pretrained instruction-following model does, a model trained from
// scratch does not (to it a guided prompt is only a longer, stranger prompt). A drill is the first turn of a train
// task with navigating.k experiences in front of it, rendered and placed as retrieval puts them (the rule extractor's
// wording): the first, as the most similar is in retrieval, names the task's own prompt with an answer drawn at
// random from the references' first turns, the others name other tasks' prompts, and the drill's completion is the
// first one's answer. So a drill teaches doing what the experience says and nothing about which answer is right.
// With navigating.retrieval: turn, retrieval puts experiences in front of every turn, so a drill is a whole episode
// of the task: before each turn, experiences naming what the agent was just told with an answer drawn at random
// from the references' turns, and that answer as the turn's completion (a habit drilled on first turns alone would
// carry the first turn's answer over to the later ones).

import { EvolverError, describeError } from "../core/errors.js";
import type { ChatMessage } from "../core/messages.js";
import type { Environment } from "../env/index.js";
import type { ChatTemplate, SampleResult, TokenSampler } from "../llm/index.js";
import { createToolFormat, runRollout, trainingSequences, type ExperienceHook, type ToolCallFormat, type Trajectory } from "../agent/index.js";
import { renderExperiences, ruleSuccessContent, ruleWhenToUse, taskText, turnText } from "../evolve/navigating/index.js";
import { adamParamsOf, buildDatum, type TrainingClient, type TrainingSequence } from "../train/index.js";
import type { EvolveConfig } from "./config.js";
import { deriveSeed, mulberry32, sampleSeeded } from "../core/random.js";

/** The run store's iteration for the warm start (iteration -1 holds the evaluation before the first update). */
export const SFT_ITERATION = -2;
/** Its phase once its weights are saved: a resumed run skips it. */
export const SFT_DONE = "sft-done";
/** The rollout stage's tool-call format: SFT must teach the calls the way rollouts parse them. */
const ROLLOUT_TOOL_FORMAT = "hermes";

export interface SftStageOptions {
  config: EvolveConfig;
  env: Environment;
  training: TrainingClient;
  template: ChatTemplate;
  /** The train pool; references are taken from a seeded shuffle of it until `sft.tasks` are found. */
  tasks: string[];
  toolFormat?: ToolCallFormat;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** What the warm start trains on: the reference sequences (or their random-answer replays), then the drills. */
export interface WarmStart {
  sequences: TrainingSequence[];
  /** How many of `sequences` come first as references; the rest are drills. */
  referenceCount: number;
  /** Train tasks passed over (no reference, or one that does not replay to success). */
  skipped: number;
  /** sft/answers_right where answers are random. */
  metrics: Record<string, number>;
  /** How long building them took (part of sft/seconds). */
  seconds: number;
}

/**
 * The warm start's sequences, deterministic from run.seed: a resumed run rebuilds the same ones (sft.replay_drills
 * replays its drills in every update, after the warm start itself is done).
 */
export async function warmStartSequences(options: SftStageOptions): Promise<WarmStart> {
  const { config, env, signal } = options;
  const sft = config.sft;
  const log = options.log ?? (() => undefined);
  const format = options.toolFormat ?? createToolFormat(ROLLOUT_TOOL_FORMAT);
  if (!env.referenceSolution) {
    throw new EvolverError("CONFIG_INVALID", `sft.enabled needs reference solutions, and environment ${env.name} has none; set sft.enabled: false`);
  }
  const started = performance.now();
  const sequences: TrainingSequence[] = [];
  // each learnt task's reference, read once here: random answers and drills are built from the same ones
  const learnt: ReferenceTurns[] = [];
  let skipped = 0;
  for (const taskId of sampleSeeded(options.tasks, options.tasks.length, deriveSeed(config.run.seed, "sft"))) {
    if (sequences.length === sft.tasks) break;
    if (signal?.aborted) throw new EvolverError("RUN_ABORTED", "stopped");
    try {
      const reference = await env.referenceSolution(taskId);
      if (reference) {
        sequences.push(await replayedReference({ env, taskId, reference, template: options.template, toolFormat: format }));
        learnt.push(turnsOf(taskId, reference, format));
      } else skipped += 1;
    } catch (error) {
      skipped += 1;
      log(`sft: no sequence for ${taskId}: ${describeError(error)}`);
    }
  }
  if (sequences.length === 0) throw new EvolverError("SFT_NO_REFERENCES", `sft: none of ${env.name}'s ${options.tasks.length} train tasks has a reference solution that succeeds`);
  const referenceCount = sequences.length;
  const metrics: Record<string, number> = {};
  if (sft.answers === "random") {
    // The same tasks as with reference answers (those whose reference succeeds), so the two differ only in answers.
    const random = await randomAnswerSequences({ config, env, template: options.template, toolFormat: format, references: learnt, signal });
    sequences.splice(0, sequences.length, ...random.sequences);
    metrics["sft/answers_right"] = random.right / Math.max(1, random.turns);
    log(`sft: random answers, ${random.right} of ${random.turns} turns right`);
  }
  if (sft.experience_drills > 0) {
    const drills = await experienceDrills({ config, env, template: options.template, toolFormat: format, references: learnt, signal });
    sequences.push(...drills);
    log(`sft: ${drills.length} experience drills`);
  }
  return { sequences, referenceCount, skipped, metrics, seconds: (performance.now() - started) / 1000 };
}

/**
 * `sft.epochs` passes of cross-entropy over the reference sequences of up to `sft.tasks` train tasks, one optimizer
 * step per `sft.batch_size` sequences. Metrics: sft/loss_epoch_<k> (mean loss per trained token during epoch k),
 * sft/loss (the last epoch's), sft/sequences, sft/tokens, sft/skipped, sft/seconds; with random answers
 * sft/answers_right (the share of trained turns whose drawn answer the environment scored right).
 * `warmStart`: the sequences, where the caller has built them already.
 */
export async function sftStage(options: SftStageOptions & { warmStart?: WarmStart }): Promise<Record<string, number>> {
  const { config, training, signal } = options;
  const sft = config.sft;
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const { sequences, referenceCount, skipped, metrics: built, seconds: building } = options.warmStart ?? (await warmStartSequences(options));
  const metrics: Record<string, number> = { ...built };
  const datums = sequences.map((sequence) => buildDatum(sequence));
  const trainedTokens = sequences.map((sequence) => sequence.lossMask.reduce((n, m) => n + m, 0));
  log(`sft: ${referenceCount} reference sequences, ${sequences.length - referenceCount} drills (${sum(trainedTokens)} trained tokens), ${sft.epochs} epoch(s)`);

  const adam = { ...adamParamsOf(config.optimizer), learning_rate: sft.learning_rate };
  for (let epoch = 1; epoch <= sft.epochs; epoch++) {
    const order = sampleSeeded(datums.map((_, i) => i), datums.length, deriveSeed(config.run.seed, "sft-epoch", epoch));
    let loss = 0;
    let tokens = 0;
    for (let start = 0; start < order.length; start += sft.batch_size) {
      if (signal?.aborted) throw new EvolverError("RUN_ABORTED", "stopped");
      const batch = order.slice(start, start + sft.batch_size);
      const result = await training.forwardBackward(batch.map((i) => datums[i]), "cross_entropy", undefined, signal);
      await training.optimStep(adam, signal);
      loss += result.metrics["loss:sum"] ?? 0;
      tokens += sum(batch.map((i) => trainedTokens[i]));
    }
    metrics[`sft/loss_epoch_${epoch}`] = loss / Math.max(1, tokens);
    log(`sft: epoch ${epoch}/${sft.epochs} loss ${metrics[`sft/loss_epoch_${epoch}`].toFixed(4)} per token`);
  }
  metrics["sft/loss"] = metrics[`sft/loss_epoch_${sft.epochs}`];
  metrics["sft/sequences"] = referenceCount;
  metrics["sft/drills"] = sequences.length - referenceCount;
  metrics["sft/tokens"] = sum(trainedTokens);
  metrics["sft/skipped"] = skipped;
  metrics["sft/seconds"] = building + (performance.now() - started) / 1000;
  return metrics;
}

/**
 * The training sequence of a task's reference solution (mask 1 on the assistant completions), or `undefined` when
 * the environment has none for it. Throws when the replayed reference does not end in success.
 */
export async function referenceSequence(options: {
  env: Environment;
  taskId: string;
  template: ChatTemplate;
  toolFormat?: ToolCallFormat;
}): Promise<TrainingSequence | undefined> {
  const reference = await options.env.referenceSolution?.(options.taskId);
  return reference ? replayedReference({ ...options, reference }) : undefined;
}

/** A reference solution (its messages) replayed as the policy's turns; throws when it does not end in success. */
async function replayedReference(options: {
  env: Environment;
  taskId: string;
  reference: ChatMessage[];
  template: ChatTemplate;
  toolFormat?: ToolCallFormat;
}): Promise<TrainingSequence> {
  const { env, taskId, template, reference } = options;
  const format = options.toolFormat ?? createToolFormat(ROLLOUT_TOOL_FORMAT);
  const completions = reference
    .filter((message) => message.role === "assistant")
    .map((message) => assistantCompletion(template, format.format(message.tool_calls ?? [], message.content)));
  const { trajectory, finished } = await playTurns({ env, taskId, template, toolFormat: format, completions });
  if (!trajectory.success || trajectory.termination !== "done" || !finished) {
    throw new EvolverError("SFT_REFERENCE_FAILED", `the reference of ${taskId} does not replay to success (${trajectory.termination}${trajectory.error ? `: ${trajectory.error}` : ""}, score ${trajectory.reward})`);
  }
  return sequenceOf(trajectory);
}

/** What the warm start's extra sequences are built from: the references of train tasks whose references succeed
 * (readReferences), and how rollouts write. */
export interface WarmStartSequenceOptions {
  config: EvolveConfig;
  env: Environment;
  template: ChatTemplate;
  references: ReferenceTurns[];
  toolFormat?: ToolCallFormat;
  signal?: AbortSignal;
}

/**
 * sft.answers: random. For each of `references` (train tasks whose references succeed), the reference's turns with each
 * answer drawn at random from the distinct answers of all their references' turns, replayed through the environment
 * whatever it scores them (see the head of this file). Seeded by run.seed and the task, so a task's draws do not
 * depend on which other tasks are learnt. `right` counts the turns the environment scored right, of `turns`.
 */
export async function randomAnswerSequences(options: WarmStartSequenceOptions): Promise<{ sequences: TrainingSequence[]; turns: number; right: number }> {
  const { config, env, template, signal, references } = options;
  const format = options.toolFormat ?? createToolFormat(ROLLOUT_TOOL_FORMAT);
  const answers = answerPool(references, "every", { env: env.name, what: "sft.answers: random", needs: "a random answer" });
  const sequences: TrainingSequence[] = [];
  let turns = 0;
  let right = 0;
  for (const reference of references) {
    if (signal?.aborted) throw new EvolverError("RUN_ABORTED", "stopped");
    const random = mulberry32(deriveSeed(config.run.seed, "sft-random-answers", reference.taskId));
    const completions = reference.replies.map(() => assistantCompletion(template, answers[Math.floor(random() * answers.length)]));
    const { trajectory } = await playTurns({ env, taskId: reference.taskId, template, toolFormat: format, completions });
    if (trajectory.termination === "error" || trajectory.termination === "timeout") {
      throw new EvolverError("SFT_REFERENCE_FAILED", `the random answers on ${reference.taskId} did not run: ${trajectory.error ?? trajectory.termination}`);
    }
    sequences.push(sequenceOf(trajectory));
    turns += trajectory.steps.length;
    right += trajectory.steps.filter((step) => step.reward === 1).length;
  }
  return { sequences, turns, right };
}

/**
 * `sft.experience_drills` one-turn sequences over `references` (train tasks whose references succeed), the experience in
 * the prompt and out of the loss, the answer in it (see the head of this file). Seeded by run.seed.
 */
export async function experienceDrills(options: WarmStartSequenceOptions): Promise<TrainingSequence[]> {
  const { config, env, template, signal, references } = options;
  const format = options.toolFormat ?? createToolFormat(ROLLOUT_TOOL_FORMAT);
  const everyTurn = config.navigating.retrieval === "turn";
  const firsts = references.filter((r) => r.replies.length > 0 && r.prompt !== "").map((r) => ({ taskId: r.taskId, prompt: r.prompt, turns: r.replies.length }));
  const answers = answerPool(references, everyTurn ? "every" : "first", { env: env.name, what: "sft.experience_drills", needs: "a drill" });
  const prompts = [...new Set(firsts.map((f) => f.prompt))];
  const k = config.navigating.k;
  const drills: TrainingSequence[] = [];
  for (let i = 0; i < config.sft.experience_drills; i++) {
    if (signal?.aborted) throw new EvolverError("RUN_ABORTED", "stopped");
    const random = mulberry32(deriveSeed(config.run.seed, "sft-drill", i));
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const task = firsts[i % firsts.length];
    // What the rule extractor writes where `worked` worked and a sibling's other answer did not. The per-turn drills
    // are worded as a pool holds them: one or more answers that did not work, or (rule_successes every) none, so
    // the habit does not hang on one wording.
    const said = everyTurn
      ? (worked: string) => {
          const others = sampleSeeded(answers.filter((a) => a !== worked), answers.length - 1, deriveSeed(config.run.seed, "sft-drill-failed", random()));
          const least = config.navigating.rule_successes === "every" ? 0 : 1;
          return ruleSuccessContent(worked, others.slice(0, least + Math.floor(random() * (others.length + 1 - least))));
        }
      : (worked: string) => ruleSuccessContent(worked, [pick(answers.filter((a) => a !== worked))]);
    // Drawn before the episode runs, so the draws do not depend on what the environment answers.
    const turns = Array.from({ length: everyTurn ? task.turns : 1 }, (_, turn) => {
      const answer = pick(answers);
      const others = sampleSeeded(prompts.filter((p) => p !== task.prompt), k - 1, deriveSeed(config.run.seed, turn === 0 ? "sft-drill-others" : `sft-drill-others-${turn}`, i));
      return { answer, said: said(answer), others: others.map((prompt) => ({ whenToUse: ruleWhenToUse(prompt), content: said(pick(answers)) })) };
    });
    const completions = turns.map((turn) => assistantCompletion(template, turn.answer));
    const { trajectory } = await playTurns({
      env,
      taskId: task.taskId,
      template,
      toolFormat: format,
      completions,
      experience: ({ step, messages }) => {
        const turn = turns[step];
        const told = turnText(messages, step);
        if (!turn || told === "") return undefined;
        return { role: config.navigating.placement, content: renderExperiences([{ whenToUse: ruleWhenToUse(told), content: turn.said }, ...turn.others]) };
      },
    });
    if (trajectory.termination === "error" || trajectory.termination === "timeout") {
      throw new EvolverError("SFT_REFERENCE_FAILED", `the experience drill on ${task.taskId} did not run: ${trajectory.error ?? trajectory.termination}`);
    }
    drills.push(sequenceOf(trajectory));
  }
  return drills;
}

/** A task's prompt and its reference's assistant turns, each written as the policy writes it (`format`). */
export interface ReferenceTurns {
  taskId: string;
  prompt: string;
  replies: string[];
}

/** The references of `tasks` as the warm start's builders take them (a task without one has no turns). */
export async function readReferences(env: Environment, tasks: string[], format: ToolCallFormat = createToolFormat(ROLLOUT_TOOL_FORMAT)): Promise<ReferenceTurns[]> {
  const references: ReferenceTurns[] = [];
  for (const taskId of tasks) references.push(turnsOf(taskId, (await env.referenceSolution?.(taskId)) ?? [], format));
  return references;
}

function turnsOf(taskId: string, reference: ChatMessage[], format: ToolCallFormat): ReferenceTurns {
  const replies = reference.filter((m) => m.role === "assistant").map((m) => format.format(m.tool_calls ?? [], m.content));
  return { taskId, prompt: taskText(reference), replies };
}

/**
 * The distinct answers a random answer is drawn from: every turn's, or the first turns' only. Throws, naming the
 * option, when there are fewer than two (a draw from one answer would teach that answer).
 */
function answerPool(references: ReferenceTurns[], turns: "every" | "first", names: { env: string; what: string; needs: string }): string[] {
  const answers = [...new Set(references.flatMap((r) => (turns === "every" ? r.replies : r.replies.slice(0, 1))))];
  if (answers.length < 2) {
    const which = turns === "first" ? "first answer(s)" : "answer(s)";
    throw new EvolverError("CONFIG_INVALID", `${names.what}: the references of ${names.env}'s train tasks have ${answers.length} distinct ${which}; ${names.needs} needs two to draw from`);
  }
  return answers;
}

/**
 * Plays `completions` as the policy's turns of a task: a token rollout (so the sequence is laid out as sampled
 * rollouts are) whose sampler gives the next completion at each model call. `finished`: every completion was used.
 */
async function playTurns(options: {
  env: Environment;
  taskId: string;
  template: ChatTemplate;
  toolFormat: ToolCallFormat;
  completions: number[][];
  experience?: ExperienceHook;
}): Promise<{ trajectory: Trajectory; finished: boolean }> {
  const player = new ReferencePlayer(options.completions);
  const trajectory = await runRollout({
    env: options.env,
    taskId: options.taskId,
    model: { kind: "tokens", sampler: player, template: options.template },
    toolFormat: options.toolFormat,
    maxSteps: options.completions.length,
    maxTokensPerCall: Math.max(1, ...options.completions.map((tokens) => tokens.length)),
    temperature: 0,
    experience: options.experience,
  });
  return { trajectory, finished: player.finished };
}

/** A played episode as one training sequence (a linear context: the whole episode is one sequence). */
function sequenceOf(trajectory: Trajectory): TrainingSequence {
  const [segments] = trainingSequences(trajectory);
  return { tokens: segments.flatMap((s) => s.tokens), lossMask: segments.flatMap((s) => s.lossMask) };
}

/** "Samples" the reference's assistant turns in order. */
class ReferencePlayer implements TokenSampler {
  readonly id = "reference";
  private next = 0;
  constructor(private readonly completions: number[][]) {}

  get finished(): boolean {
    return this.next === this.completions.length;
  }

  async sample(): Promise<SampleResult> {
    const tokens = this.completions[this.next++];
    if (!tokens) throw new EvolverError("SFT_REFERENCE_FAILED", "the episode goes on after the reference's last turn");
    return { tokens, logprobs: tokens.map(() => 0), stopReason: "stop" };
  }
}

/** The tokens a model samples for this assistant text, end-of-turn token included. */
function assistantCompletion(template: ChatTemplate, text: string): number[] {
  const message: ChatMessage = { role: "assistant", content: text };
  if (hasAssistantCompletion(template)) return template.renderAssistantCompletion(message);
  return [...template.encode(text), template.stopTokens[0]];
}

function hasAssistantCompletion(template: ChatTemplate): template is ChatTemplate & { renderAssistantCompletion(message: ChatMessage): number[] } {
  return typeof (template as { renderAssistantCompletion?: unknown }).renderAssistantCompletion === "function";
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
