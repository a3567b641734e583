// A trajectory is the exact record of one episode: what the model saw and what it produced, token for token.
// Only tokens the policy sampled are in the loss. Steps index the assistant actions, which is what
// self-attribution judges and what advantages attach to.
//
// Token sequences. A rollout may make many model calls. With an append-only context strategy (`linear`) every
// prompt is the previous prompt plus the sampled reply plus the environment's answer, so the whole episode is ONE
// sequence: segments concatenate to it, and one forward pass trains every step. A strategy that rewrites history
// (dropping thinking, a sliding window, self-clipping) breaks that prefix property: the second prompt is not an
// extension of the first, and concatenating would train on a context the model never saw. Then each model call is
// its own sequence: its exact prompt tokens (out of the loss) followed by its sampled tokens (in the loss).
// `Segment.sequence` says which sequence a segment belongs to (absent = 0); segments of one sequence are stored in
// order and concatenate to exactly the tokens the sampler saw plus what it sampled. A rollout that used a linear
// strategy therefore has a single sequence, and `trainingSequences` returns the per-call form or the merged form
// alike. We store sequences rather than every prompt in full because a linear episode's prompts overlap almost
// entirely (storing each would be quadratic in the episode length).
import { z } from "zod";
import { ChatMessage } from "../core/messages.js";

export const SegmentSource = z.enum(["prompt", "policy", "environment", "experience"]);
export type SegmentSource = z.infer<typeof SegmentSource>;

export const Segment = z.object({
  /** Who produced these tokens: the initial prompt, the policy (sampled), the environment's observations, or
   * injected experience text (self-navigating; always out of the loss). */
  source: SegmentSource,
  tokens: z.array(z.number().int()),
  /** Sampling logprobs, one per token; present for policy segments when the backend returned them. */
  logprobs: z.array(z.number()).optional(),
  /** 1 where the token is trained on: only tokens the policy sampled. Same length as tokens. */
  lossMask: z.array(z.union([z.literal(0), z.literal(1)])),
  /** Index into `steps` for policy segments. */
  step: z.number().int().optional(),
  /** Which token sequence this segment belongs to (see the header); absent means 0. */
  sequence: z.number().int().min(0).optional(),
});
export type Segment = z.infer<typeof Segment>;

export const Step = z.object({
  index: z.number().int(),
  /** The assistant message of this step (its action). */
  action: ChatMessage,
  /** What the environment answered. */
  observations: z.array(ChatMessage),
  reward: z.number().optional(),
  /** The tools this step's model call was offered, where a context strategy chose them (tool-retrieval). */
  offeredTools: z.array(z.string()).optional(),
  /** The action's calls that failed, as the environment reported them (StepResult.errors). */
  errors: z.array(z.string()).optional(),
});
export type Step = z.infer<typeof Step>;

export const Trajectory = z.object({
  id: z.string(),
  taskId: z.string(),
  envType: z.string(),
  /** Rollouts of the same task in the same batch share a group key; GRPO normalizes within it. */
  groupKey: z.string(),
  sampleIndex: z.number().int(),
  /** The full conversation as messages (for people, judges and API models). */
  messages: z.array(ChatMessage),
  steps: z.array(Step),
  /** Empty when the backend gave no token ids (API models): such trajectories can be evaluated, not trained on. */
  segments: z.array(Segment),
  /** The outcome: the environment's evaluation score. */
  reward: z.number(),
  success: z.boolean(),
  evaluation: z.record(z.string(), z.unknown()).default({}),
  /** Why the episode stopped. */
  termination: z.enum(["done", "max_steps", "context_limit", "error", "timeout"]),
  error: z.string().optional(),
  /** Whether retrieved experience was injected into this rollout's prompt (self-navigating). */
  experienceGuided: z.boolean().default(false),
  metrics: z.record(z.string(), z.number()).default({}),
  /** Task parameters passed to `Environment.create` (synthetic tasks differ from their seed task only here). */
  taskParams: z.record(z.string(), z.unknown()).optional(),
  /** The environment's facts about the task (`InitialState.info`, e.g. its category). */
  info: z.record(z.string(), z.unknown()).optional(),
  /** The model, tool-call format and context strategy that produced it, for logs and the run store. */
  model: z.string().optional(),
  toolFormat: z.string().optional(),
  contextStrategy: z.string().optional(),
});
export type Trajectory = z.infer<typeof Trajectory>;

/** The trajectory's token sequences, each a list of segments in order (see the header). Empty for API models. */
export function trainingSequences(trajectory: Pick<Trajectory, "segments">): Segment[][] {
  const sequences: Segment[][] = [];
  for (const segment of trajectory.segments) {
    const index = segment.sequence ?? 0;
    (sequences[index] ??= []).push(segment);
  }
  return sequences.filter((sequence) => sequence !== undefined);
}

/** The token ids of one sequence. */
export function sequenceTokens(sequence: Segment[]): number[] {
  return sequence.flatMap((segment) => segment.tokens);
}

/**
 * Why a rollout is an error rather than a result, or undefined when it is a result. A rollout errored when its
 * episode ended in a model or environment error or a timeout, or when the model never acted because the first prompt
 * did not fit in its context: its outcome says nothing about the policy. A success, a failure and an episode that
 * ran out of steps or context after acting are results.
 */
export function rolloutError(trajectory: Pick<Trajectory, "termination" | "error" | "steps">): string | undefined {
  if (trajectory.termination === "error" || trajectory.termination === "timeout") return trajectory.error ?? trajectory.termination;
  if (trajectory.termination === "context_limit" && trajectory.steps.length === 0) {
    return trajectory.error ?? "the first prompt does not fit in the model's context";
  }
  return undefined;
}
