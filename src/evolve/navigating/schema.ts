// Self-navigating's data: the `navigating:` config section, an experience, and the LLM outputs (extracted
// experiences, the semantic advantage's pool edits). Each type is inferred from its schema.
import { z } from "zod";
import { DEFAULT_EMBEDDER, EmbedderSpec } from "../../llm/embedders.js";

export const NavigatingConfig = z
  .object({
    /** Off: no pool is read or written. */
    enabled: z.boolean().default(false),
    /** rule: from the environment's step rewards or error observations (what worked where a sibling failed);
     * llm: an LLM compares a group's successes and failures. */
    extractor: z.enum(["rule", "llm"]).default("rule"),
    /** Provider spec of the LLM extractor and of the training-free semantic advantage (openai:<model>, a .gguf path
     * or hf:…); default for trainer.kind none: the policy itself. */
    extractor_model: z.string().optional(),
    /** Base URL of the extractor's OpenAI-compatible server (else OPENAI_BASE_URL). */
    extractor_base_url: z.string().url().optional(),
    /** use-lite (offline, shipped in an npm package) or openai:<model>. */
    embedder: EmbedderSpec.default(DEFAULT_EMBEDDER),
    embedder_base_url: z.string().url().optional(),
    /** Experiences injected per guided rollout, at most. */
    k: z.number().int().min(1).max(20).default(3),
    /** Cosine similarity a retrieved experience must reach (when_to_use against the task's first user message). */
    threshold: z.number().min(-1).max(1).default(0.4),
    /** Lexical guard on top of the similarity: the share of the query's distinct words that an experience's
     * when_to_use must contain (0: off). Small embedders place texts that differ in one decisive word close together
     * (use-lite puts "1 1 1" nearer the experience of "2 2 2" than its own), and a policy follows what it is given. */
    min_word_overlap: z.number().min(0).max(1).default(0),
    /** Share of each training group's rollouts that get experiences; the rest run without (mixed groups). */
    eta: z.number().min(0).max(1).default(0.5),
    /** Where the experiences go: a user message before the task's first one, or the end of the system prompt. */
    placement: z.enum(["user", "system"]).default("user"),
    /** episode: one retrieval per rollout, keyed by the task's first user message, before it. turn: one before every
     * model call, keyed by what the agent was just told (the last step's observations), in front of those
     * observations, so each turn of a multi-turn task gets the experiences of its own situation. turn needs an
     * append-only rollout.context (linear, tool-retrieval:K). */
    retrieval: z.enum(["episode", "turn"]).default("episode"),
    /** Rule extractor: contrast writes what worked only where a sibling's attempt at the same point failed; every
     * also where every attempt worked ("answer X."), so a situation the policy already masters has its experience
     * too, and retrieval does not serve another situation's in its place. */
    rule_successes: z.enum(["contrast", "every"]).default("contrast"),
    /** Whether held-out rollouts read the pool (they never write it). */
    eval_guided: z.boolean().default(true),
    /** A pool file shared across runs; default: experiences.db in the run's folder (output_dir/RUN). */
    pool: z.string().min(1).optional(),
    /** Merge an experience into an older one when their when_to_use vectors are at least this similar. */
    merge_threshold: z.number().min(0).max(1).default(0.95),
    /** Retire an experience once it was used this often and its rollouts succeeded less than comparable unguided
     * ones by more than retire_margin. */
    retire_min_uses: z.number().int().min(1).default(8),
    retire_margin: z.number().min(0).max(1).default(0.2),
  })
  .strict();
export type NavigatingConfig = z.infer<typeof NavigatingConfig>;

/** Where an experience came from: what worked (success), what failed (failure), or a semantic advantage's edit. */
export const ExperienceOrigin = z.enum(["success", "failure", "semantic"]);
export type ExperienceOrigin = z.infer<typeof ExperienceOrigin>;

/** An experience before it is in a pool. */
export const NewExperience = z.object({
  whenToUse: z.string().min(1),
  content: z.string().min(1),
  origin: ExperienceOrigin,
  /** Trajectory ids it was distilled from. */
  sourceTrajectories: z.array(z.string()),
  /** Task ids of those trajectories (training split only; the leakage test reads them). */
  sourceTasks: z.array(z.string()),
  /** What made it: "rule:step-reward", "llm:<model>", "semantic:<model>", "import". */
  extractor: z.string(),
});
export type NewExperience = z.infer<typeof NewExperience>;

export const ExperienceStatus = z.enum(["active", "merged", "retired", "deleted"]);
export type ExperienceStatus = z.infer<typeof ExperienceStatus>;

export const Experience = NewExperience.extend({
  id: z.number().int(),
  status: ExperienceStatus,
  /** The run and iteration that added it (provenance). */
  runId: z.string().nullable(),
  iteration: z.number().int().nullable(),
  createdAt: z.string(),
  /** Merged into this experience, or why it was retired/deleted. */
  note: z.string().nullable(),
  /** Near-duplicates merged into it. */
  merges: z.number().int(),
});
export type Experience = z.infer<typeof Experience>;

/** How rollouts that used an experience did against comparable rollouts (same group) without it. */
export interface ExperienceUsage {
  experienceId: number;
  guided: number;
  guidedSuccesses: number;
  unguided: number;
  unguidedSuccesses: number;
}

/** The LLM extractor's answer (lenient: invalid items are dropped and counted, not fatal). */
export const ExtractorOutput = z.object({
  experiences: z.array(z.unknown()),
});
export const ExtractedItem = z.object({
  when_to_use: z.string().trim().min(3).max(600),
  content: z.string().trim().min(3).max(1200),
  origin: z.enum(["success", "failure"]),
});
export type ExtractedItem = z.infer<typeof ExtractedItem>;

/** The training-free semantic advantage's answer: edits of the pool. */
export const PoolEdit = z.discriminatedUnion("op", [
  z.object({ op: z.literal("add"), when_to_use: z.string().trim().min(3).max(600), content: z.string().trim().min(3).max(1200) }),
  z.object({ op: z.literal("modify"), id: z.number().int(), content: z.string().trim().min(3).max(1200), when_to_use: z.string().trim().min(3).max(600).optional() }),
  z.object({ op: z.literal("delete"), id: z.number().int(), reason: z.string().max(600).default("") }),
]);
export type PoolEdit = z.infer<typeof PoolEdit>;
export const SemanticAdvantageOutput = z.object({ edits: z.array(z.unknown()) });
