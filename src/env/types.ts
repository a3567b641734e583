// The environment API. An environment type is a small class registered by name; it hands out instances,
// one per task attempt. The same interface is served over HTTP by the environment service and implemented by
// the remote client, so a remote env-service (AgentEvolver's protocol) is an environment like the built-in ones.
import { z } from "zod";
import { ChatMessage, ToolSchema } from "../core/messages.js";

export const Split = z.enum(["train", "val", "test"]);
export type Split = z.infer<typeof Split>;

/** What `create` returns: the first prompt of the task and the tools the agent may call. */
export const InitialState = z.object({
  messages: z.array(ChatMessage),
  tools: z.array(ToolSchema),
  /** Free-form facts about the task (category, turn count...). */
  info: z.record(z.string(), z.unknown()).default({}),
});
export type InitialState = z.infer<typeof InitialState>;

export const StepResult = z.object({
  /** Messages the environment answers with: tool results, and the next user turn where there is one. */
  observations: z.array(ChatMessage),
  done: z.boolean(),
  /** Set when the environment scores the step itself; most score only in `evaluate`. */
  reward: z.number().optional(),
  /** Tools available from now on, when they changed during the episode (BFCL's missing-function turns). */
  tools: z.array(ToolSchema).optional(),
  /** The calls of this action that failed, each with its error ("mkdir: Error during execution: ..."): what
   * exploration counts as an erred outcome and what verification of a synthetic task refuses. */
  errors: z.array(z.string()).optional(),
  info: z.record(z.string(), z.unknown()).default({}),
});
export type StepResult = z.infer<typeof StepResult>;

export const Evaluation = z.object({
  /** In [0, 1]; 1 is full success. */
  score: z.number(),
  success: z.boolean(),
  details: z.record(z.string(), z.unknown()).default({}),
});
export type Evaluation = z.infer<typeof Evaluation>;

/** What self-questioning explores: the environment's entities, their attributes and operations, task preferences. */
export const EnvProfile = z.object({
  name: z.string(),
  description: z.string().default(""),
  entities: z.array(
    z.object({
      name: z.string(),
      description: z.string().default(""),
      attributes: z.record(z.string(), z.string()).default({}),
      operations: z
        .array(
          z.object({
            name: z.string(),
            description: z.string().default(""),
            /** How a user asks for it, with {argument} placeholders ("Create a folder named {dir_name}."): what
             * hindsight self-questioning writes a synthetic task's request from. */
            template: z.string().optional(),
          }),
        )
        .default([]),
    }),
  ),
  taskPreferences: z
    .object({
      numEntities: z.number().int().default(1),
      numOperations: z.number().int().default(1),
      relationDifficulty: z.number().int().default(1),
      notes: z.string().default(""),
    })
    .default({ numEntities: 1, numOperations: 1, relationDifficulty: 1, notes: "" }),
});
export type EnvProfile = z.infer<typeof EnvProfile>;

/** One action of a reference solution: a tool call (arguments as JSON values), or a plain reply. */
export const ReferenceAction = z.union([
  z.object({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).default({}) }).strict(),
  z.object({ text: z.string() }).strict(),
]);
export type ReferenceAction = z.infer<typeof ReferenceAction>;

/**
 * A task given by its definition instead of an id the environment lists: self-questioning's synthetic tasks (and a
 * listed task written out, `Environment.taskSpec`). It reaches `create` as `params.task` and is graded by the
 * environment's own checks, exactly like a listed task.
 */
export const TaskSpec = z
  .object({
    /** The user's requests, one per turn. Environments that write their own prompts (key-chain) ignore them. */
    turns: z.array(z.string()).min(1),
    /** How the environment is set up before the first turn, in the environment's own shape (BFCL: initial_config
     * and involved_classes; key-chain: digits). */
    setup: z.record(z.string(), z.unknown()).default({}),
    /** The reference solution, per turn: the actions that fulfil it (BFCL's ground truth). Empty for an exploration. */
    solution: z.array(z.array(ReferenceAction)).default([]),
  })
  .strict();
export type TaskSpec = z.infer<typeof TaskSpec>;

/** What an explored episode achieved (Environment.hindsightTask). */
export type HindsightTask = Pick<TaskSpec, "setup" | "solution"> & Partial<Pick<TaskSpec, "turns">>;

/** A step of an explored episode, as hindsight reads it. */
export interface ExploredStep {
  action: ChatMessage;
  observations: ChatMessage[];
  reward?: number;
  errors?: string[];
}

/** What an environment can do beyond the required methods. Each defaults to "no". */
export const EnvCapabilities = z.object({
  /** Every step reports a reward (`StepResult.reward`) saying whether it was right: what the rule step judge reads.
   * Environments that score only in `evaluate` leave it false, and need an LLM judge for per-step attribution. */
  stepRewards: z.boolean().default(false),
  /** The environment decodes every tool call's arguments itself and decides what an undecodable one means (BFCL ends
   * the turn, as its own inference does). The rollout then passes a message whose calls do not decode to `step`
   * instead of refusing it and letting the model try again. */
  decodesCalls: z.boolean().default(false),
});
export type EnvCapabilities = z.infer<typeof EnvCapabilities>;

/** One running episode. Instances are independent: many may be alive at once. */
export interface EnvInstance {
  readonly taskId: string;
  readonly initial: InitialState;
  /** `action` is the agent's assistant message, usually with tool calls. Ending a turn without calls is an action too. */
  step(action: ChatMessage): Promise<StepResult>;
  evaluate(): Promise<Evaluation>;
  release(): Promise<void>;
}

/**
 * How an environment reads the agent's action. "tool_calls": the calls in `tool_calls` (the content is a remark).
 * "text": the assistant's text exactly as the model wrote it, as AgentEvolver's services read it (Qwen's
 * <tool_call> blocks for BFCL, code for AppWorld); the agent then sends the sampled text whole and parses nothing.
 */
export const ActionFormat = z.enum(["tool_calls", "text"]);
export type ActionFormat = z.infer<typeof ActionFormat>;

/** An environment type: a task source plus a factory of instances. */
export interface Environment {
  readonly name: string;
  /** Default "tool_calls". */
  readonly actionFormat?: ActionFormat;
  listTasks(split: Split): Promise<string[]>;
  profile(): Promise<EnvProfile>;
  create(taskId: string, params?: Record<string, unknown>): Promise<EnvInstance>;
  /**
   * A correct episode of the task, for an SFT warm start: the initial messages, then every assistant action (native
   * tool calls) with the observations the environment answers it with, exactly as a rollout records them, so that
   * stepping an instance with its assistant messages in order ends in success. `undefined` where the task has none.
   */
  referenceSolution?(taskId: string): Promise<ChatMessage[] | undefined>;
  /** A listed task written out as a spec (its setup, turns and reference solution); undefined where it has none. */
  taskSpec?(taskId: string): Promise<TaskSpec | undefined>;
  /**
   * Self-questioning: the setup of a sandbox to explore one entity of the profile in (`TaskSpec.setup`), drawn by
   * `seed`; built from training data only, never from a held-out task.
   */
  explorationSetup?(entity: string, seed: number): Promise<Record<string, unknown>>;
  /**
   * Hindsight: the task an explored episode accomplished, its reached state taken as the goal: the setup and the
   * reference solution per turn, and optionally the turns' requests (else the questioning stage writes them from the
   * profile's templates; an environment whose setup, not its solution, tells tasks apart says so in its own words,
   * or dedup would take two different tasks with the same answers for one). undefined: nothing achieved.
   */
  hindsightTask?(setup: Record<string, unknown>, steps: ExploredStep[]): Promise<HindsightTask | undefined>;
  /** What it can do (EnvCapabilities); absent, it can do none of it. */
  capabilities?(): Promise<Partial<EnvCapabilities>>;
  /** Frees what the environment holds (servers, files). */
  close?(): Promise<void>;
}

/** The environment's capabilities, each "no" unless it says otherwise. */
export async function environmentCapabilities(env: Environment): Promise<EnvCapabilities> {
  return EnvCapabilities.parse((await env.capabilities?.()) ?? {});
}
