// Self-questioning's data: explorations, candidate tasks and what became of them, and the LLM synthesizer's
// structured output. Types are inferred from the schemas.
import { z } from "zod";
import { TaskSpec } from "../../env/index.js";

/** Where a candidate task ended: accepted into the pool, or why not. */
export const CandidateStatus = z.enum(["accepted", "rejected", "duplicate"]);
export type CandidateStatus = z.infer<typeof CandidateStatus>;

/** Why a candidate was turned away; counted per reason in every synthesis report. */
export const RejectReason = z.enum([
  /** The LLM's output was not JSON of the schema. */
  "invalid_json",
  /** Valid JSON that proposed no task. */
  "no_tasks",
  "empty_query",
  /** A call to a function the explored instance did not offer. */
  "unknown_function",
  /** Arguments that do not fit the function's JSON schema. */
  "bad_arguments",
  /** The environment refused the spec (`create` threw). */
  "bad_spec",
  /** Replaying the reference solution in a fresh instance raised an error in one of its calls. */
  "replay_error",
  /** The replay ran but the task's own checks failed. */
  "checks_failed",
  /** An LLM judge graded the replay in its undecided band: not graded, so not trusted either way. */
  "undecided",
  /** The same setup and solution as a held-out (val/test) task: never trained on. */
  "held_out",
  /** A near-duplicate of an accepted task (lexical or embedding). */
  "duplicate_lexical",
  "duplicate_embedding",
]);
export type RejectReason = z.infer<typeof RejectReason>;

/** One curiosity-driven episode: what it explored, what it did and what it saw. */
export const Exploration = z.object({
  id: z.string(),
  env: z.string(),
  /** The profile entity it explored. */
  entity: z.string(),
  setup: z.record(z.string(), z.unknown()),
  steps: z.array(
    z.object({
      action: z.record(z.string(), z.unknown()),
      observations: z.array(z.record(z.string(), z.unknown())),
      reward: z.number().optional(),
      errors: z.array(z.string()).optional(),
    }),
  ),
  /** Operation/outcome pairs this episode was the first to reach. */
  novel: z.number().int(),
  error: z.string().optional(),
});
export type Exploration = z.infer<typeof Exploration>;

/** A task proposed by a synthesizer, before and after verification. */
export const Candidate = z.object({
  id: z.string(),
  env: z.string(),
  explorationId: z.string(),
  synthesizer: z.string(),
  spec: TaskSpec,
  /** How success is checked, in words (the LLM's `check`; hindsight: the environment's own checks). */
  check: z.string().default(""),
  status: CandidateStatus,
  reason: RejectReason.optional(),
  /** The error or failed check behind `reason`. */
  detail: z.string().optional(),
});
export type Candidate = z.infer<typeof Candidate>;

/** The LLM synthesizer's answer (lenient: checked field by field afterwards, so one bad task does not sink the rest). */
export const ProposedTasks = z.object({
  tasks: z.array(
    z.object({
      query: z.string(),
      solution: z.array(z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()).default({}) })),
      check: z.string().default(""),
    }),
  ),
});
export type ProposedTasks = z.infer<typeof ProposedTasks>;

/** ProposedTasks as JSON Schema, for structured output (OpenAI's json_schema, the embedded model's grammar). */
export const PROPOSED_TASKS_JSON_SCHEMA: Record<string, unknown> = {
  type: "object",
  properties: {
    tasks: {
      type: "array",
      items: {
        type: "object",
        properties: {
          query: { type: "string" },
          solution: {
            type: "array",
            items: { type: "object", properties: { name: { type: "string" }, arguments: { type: "object" } }, required: ["name", "arguments"] },
          },
          check: { type: "string" },
        },
        required: ["query", "solution", "check"],
      },
    },
  },
  required: ["tasks"],
};
