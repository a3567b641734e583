// A trajectory is the exact record of one episode: what the model saw and what it produced, token for token.
// Segments concatenate to the full token sequence; only tokens the policy sampled are in the loss.
// Steps index the assistant actions, which is what self-attribution judges and what advantages attach to.
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
});
export type Segment = z.infer<typeof Segment>;

export const Step = z.object({
  index: z.number().int(),
  /** The assistant message of this step (its action). */
  action: ChatMessage,
  /** What the environment answered. */
  observations: z.array(ChatMessage),
  reward: z.number().optional(),
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
});
export type Trajectory = z.infer<typeof Trajectory>;
