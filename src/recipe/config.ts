// The evolve run's configuration: one zod schema with documented defaults, loaded from YAML, then dotted
// `key=value` overrides. Unknown keys are rejected and every problem is reported at once. The resolved config is
// stored with the run.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { EvolverError } from "../core/errors.js";
import { createContextStrategy, toolFormatNames } from "../agent/index.js";
import { DEFAULT_EMBEDDER, EmbedderSpec } from "../llm/index.js";
import { NavigatingConfig } from "../evolve/navigating/index.js";
import { PolicyLossConfig } from "../evolve/attributing/index.js";
import { AdamParams } from "../train/index.js";
import { environmentOptionsSchema, knownEnvironments, MODULE_ENVIRONMENT, registerBuiltinEnvironments } from "../env/index.js";

/** AdamW (the trainer protocol's AdamParams, declared once in src/train), plus how many updates an iteration makes. */
const Optimizer = AdamParams.extend({
  /** Optimizer steps per iteration: the batch is split into this many mini-batches, one update each (PPO-style;
   * after the first, the importance ratio and its clipping are what keep the updates near the sampling policy). */
  mini_batches: z.number().int().min(1).default(1),
  /** Leave out of the update the sequences of a group in which every rollout succeeded alike (every advantage 0).
   * Without a KL term such a sequence adds only the entropy bonus, and a solved task needs no exploring; a group that
   * failed alike keeps it (the bonus is what lets it find another answer). */
  skip_solved_groups: z.boolean().default(false),
}).strict();

const Trainer = z.discriminatedUnion("kind", [
  z
    .object({
      /** Start the project's own Python trainer on this machine. */
      kind: z.literal("local"),
      /** Python with torch; default: $EVOLVER_PYTHON, else /usr/bin/python3 when it imports torch, else python3. */
      python: z.string().optional(),
      device: z.enum(["cpu", "cuda", "auto"]).default("auto"),
      /** 0 trains all weights; otherwise LoRA adapters of this rank. */
      lora_rank: z.number().int().min(0).default(0),
      /** Tokens per micro-batch of gradient accumulation. */
      micro_batch_tokens: z.number().int().positive().default(4096),
      /** batched: concurrent sample requests share one forward step per token (continuous batching); unbatched:
       * one request at a time, each its own prefill and decode (the reference path, kept for comparison). */
      sampling: z.enum(["batched", "unbatched"]).default("batched"),
    })
    .strict(),
  z
    .object({
      /** Any server of the Tinker protocol: hosted Tinker, SkyRL's self-hosted server, a local trainer started by hand. */
      kind: z.literal("remote"),
      url: z.string().url(),
      /** Name of the environment variable holding the API key (never put the key itself in a config). */
      api_key_env: z.string().default("TINKER_API_KEY"),
      lora_rank: z.number().int().min(0).default(32),
    })
    .strict(),
  z
    .object({
      /** Training-free: the policy (policy.base_model: openai:<model>, a .gguf path or hf:…) is only prompted, and
       * only its experience pool evolves (navigating must be enabled). */
      kind: z.literal("none"),
    })
    .strict(),
]);

export const EvolveConfig = z
  .object({
    run: z
      .object({
        name: z.string().min(1).default("evolve"),
        /** The SQLite run store. */
        store: z.string().default(".evolver/runs.db"),
        /** Where checkpoints and logs go (one folder per run below it). */
        output_dir: z.string().default(".evolver/runs"),
        /** Seeds task sampling and rollouts: the same seed gives the same run. */
        seed: z.number().int().default(0),
      })
      .strict()
      .prefault({}),
    env: z
      .object({
        /** A registered environment type (key-chain, bfcl-v3, remote), or `module`: the user's own, from `path`. */
        type: z.string().min(1),
        /** type module: the user's ES module (.mjs, or .js in a "type": "module" package), read from the working
         * directory like every path of a config; its default export makes the environment (docs/custom-environment.md). */
        path: z.string().min(1).optional(),
        /** The environment's own options, checked against its type's schema. */
        options: z.record(z.string(), z.unknown()).default({}),
        train_split: z.enum(["train", "val", "test"]).default("train"),
        eval_split: z.enum(["train", "val", "test"]).default("test"),
      })
      .strict()
      .superRefine(checkEnvironment),
    policy: z
      .object({
        /** The policy's weights: an HF-style folder (config.json, model.safetensors, tokenizer.json) for the local trainer,
         * or the base model name a remote trainer knows; for trainer.kind none, a model to prompt (openai:<model>, a
         * .gguf path or hf:…). */
        base_model: z.string().min(1),
        /** tokenizer.json to render prompts with; default: base_model/tokenizer.json. */
        tokenizer: z.string().optional(),
        /** trainer.kind none with an openai: policy: its OpenAI-compatible server (else OPENAI_BASE_URL; the key
         * comes from OPENAI_API_KEY). */
        base_url: z.string().url().optional(),
        /** The chat template (a .jinja file) when the tokenizer's tokenizer_config.json has none (e.g. Llama 2);
         * default: the model's own chat_template. */
        chat_template: z.string().optional(),
      })
      .strict(),
    trainer: Trainer.default({ kind: "local", device: "auto", lora_rank: 0, micro_batch_tokens: 4096, sampling: "batched" }),
    optimizer: Optimizer.prefault({}),
    rollout: z
      .object({
        /** Samples per task; GRPO normalizes rewards within each group. */
        group_size: z.number().int().min(1).default(8),
        tasks_per_iteration: z.number().int().min(1).default(16),
        max_steps: z.number().int().min(1).default(8),
        max_tokens_per_step: z.number().int().min(1).default(256),
        temperature: z.number().min(0).default(1.0),
        top_p: z.number().gt(0).max(1).default(1.0),
        /** Rollouts in flight at once. */
        concurrency: z.number().int().min(1).default(32),
        /** How tool calls travel (agent/tool-formats.ts). native: the chat template renders the tools and the model
         * answers in its own call format (Hermes <tool_call> tags for Qwen's templates), as `evolver eval` does by
         * default; hermes: tools described in the system prompt by Evolver; bfcl: BFCL's Python-like call lists. */
        tool_format: z.enum(toolFormatNames as ["native", "hermes", "bfcl"]).default("native"),
        /** What each prompt holds (agent/context). linear: the whole episode, one token sequence per rollout;
         * linear-no-thinking, sliding-window:N and self-context-clip rewrite the history, so each model call is then
         * trained as its own sequence (agent/trajectory.ts). tool-retrieval:K (docs/tool-retrieval.md) keeps the history
         * but offers each call only the K tools nearest the current request, those used or found so far, and a
         * search_tools meta-tool: for environments with more tools than a prompt holds (needs tool_format native). */
        context: z.string().default("linear").superRefine(checkContextStrategy),
        /** What tool-retrieval embeds tool schemas and requests with: the same specs as navigating.embedder. */
        tool_retrieval: z
          .object({
            /** use-lite (offline, shipped in an npm package) or openai:<model> (/v1/embeddings). */
            embedder: EmbedderSpec.default(DEFAULT_EMBEDDER),
            /** Base URL of that OpenAI-compatible server (else OPENAI_BASE_URL). */
            embedder_base_url: z.string().url().optional(),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({})
      .superRefine((rollout, context) => {
        const { embedder, embedder_base_url } = rollout.tool_retrieval;
        if (!rollout.context.startsWith("tool-retrieval") && (embedder !== DEFAULT_EMBEDDER || embedder_base_url !== undefined)) {
          context.addIssue({ code: "custom", path: ["tool_retrieval"], message: `rollout.tool_retrieval is read only by context tool-retrieval:K; this run's context is ${rollout.context}` });
        }
        if (rollout.context.startsWith("tool-retrieval") && rollout.tool_format !== "native") {
          context.addIssue({ code: "custom", path: ["tool_format"], message: `context ${rollout.context} offers the tools it retrieves natively and needs tool_format native, not ${rollout.tool_format}` });
        }
      }),
    attribution: z
      .object({
        /** Off: plain GRPO on the outcome. On: ADCA-GRPO with per-step verdicts. */
        enabled: z.boolean().default(true),
        /** rule: the environment's own step rewards judge, which works only where its steps report rewards
         * (key-chain; not bfcl-v3, nor a remote service that does not say so); llm: an LLM judge. Default: rule where
         * the environment's steps report rewards; elsewhere the run refuses to start until a judge is chosen (or
         * attribution is turned off). The resolved judge is stored with the run. */
        judge: z.enum(["rule", "llm"]).optional(),
        /** Provider spec of the LLM judge (e.g. openai:gpt-4o-mini, a .gguf path or hf:…), for judge = llm. */
        judge_model: z.string().optional(),
        /** Base URL of the judge's OpenAI-compatible server (else OPENAI_BASE_URL); its key comes from OPENAI_API_KEY. */
        judge_base_url: z.string().url().optional(),
        /** An embedded judge model's context in tokens per sequence; default the model file's own context length. */
        judge_context_size: z.number().int().min(128).optional(),
        alpha: z.number().min(0).default(0.5),
        alpha_schedule: z.enum(["constant", "cosine"]).default("constant"),
        normalize_std: z.boolean().default(true),
      })
      .strict()
      .prefault({})
      .superRefine((attribution, context) => {
        if (attribution.enabled && attribution.judge === "llm" && !attribution.judge_model) {
          context.addIssue({ code: "custom", path: ["judge_model"], message: "judge llm needs judge_model, e.g. openai:gpt-4o-mini or a .gguf path" });
        }
      }),
    /** Self-navigating: the experience pool (src/evolve/navigating/schema.ts documents every key). */
    navigating: NavigatingConfig.prefault({}),
    /** The policy loss (evolver_ppo), declared once in src/evolve/attributing/schema.ts: clip_low, clip_high,
     * clip_high_boost, dual_clip_c, kl_beta, kl_type, aggregation, entropy_coeff. */
    loss: PolicyLossConfig.prefault({}),
    /** A supervised warm start before the first iteration, on the environment's reference solutions (BFCL's ground
     * truth): cross-entropy on the assistant's tokens only. The other AdamW settings come from `optimizer`. */
    sft: z
      .object({
        enabled: z.boolean().default(false),
        /** Passes over the reference sequences. */
        epochs: z.number().int().min(1).default(1),
        /** Train tasks to learn from (those without a reference solution are passed over). */
        tasks: z.number().int().min(1).default(64),
        /** Sequences per optimizer step. */
        batch_size: z.number().int().min(1).default(16),
        learning_rate: z.number().positive().default(1e-4),
        /** One-turn drills in following an experience in the prompt (src/recipe/sft-stage.ts), added to the
         * references: a policy trained from scratch does not read the experiences self-navigating gives it, an
         * instruction-tuned one does. Their answers are random, so they teach reading, not which answer is right.
         * With navigating.retrieval: turn each drill is a whole episode, an experience before every turn. */
        experience_drills: z.number().int().min(0).default(0),
        /** What the reference sequences answer at each turn. reference: the reference solution's own answers (the
         * format and the environment's secrets: key-chain's letter of each seed digit). random: each turn's answer
         * drawn at random (seeded by run.seed) from all the learnt references' turn answers, so the warm start
         * teaches the format (answer as a reference does, one letter) and nothing about which answer a turn takes,
         * as an instruction-tuned model knows how to answer but not the environment; RL must find the answers. */
        answers: z.enum(["reference", "random"]).default("reference"),
        /** Experience drills replayed in every policy update: this many per mini-batch, drawn from the warm start's
         * drills, trained with cross-entropy beside the RL loss (InstructGPT's pretraining mix). The updates train
         * the experience-stripped context only, so at a learning rate where the policy learns from reward they wear
         * the drilled reading away within a few iterations (docs/ablation.md, sixth pass); 0: no replay. */
        replay_drills: z.number().int().min(0).default(0),
        /** The replayed drills' weight beside the RL loss: their mean cross-entropy per trained token times this. */
        replay_coef: z.number().positive().default(1),
      })
      .strict()
      .prefault({})
      .superRefine((sft, context) => {
        if (sft.replay_drills > 0 && (!sft.enabled || sft.experience_drills === 0)) {
          context.addIssue({ code: "custom", path: ["replay_drills"], message: "replay_drills replays the warm start's drills: it needs sft.enabled: true and sft.experience_drills > 0" });
        }
      }),
    /** Self-questioning: explore the environment, synthesize verified training tasks, mix them into the batches. */
    questioning: z
      .object({
        enabled: z.boolean().default(false),
        /** Who explores: "policy" (the policy being trained, with its current weights) or a model spec
         * (openai:<model>, a .gguf path, hf:…). */
        explorer: z.string().min(1).default("policy"),
        /** Base URL of an OpenAI-compatible explorer (else OPENAI_BASE_URL). */
        explorer_base_url: z.string().url().optional(),
        /** hindsight: no LLM, an explored episode's reached state is the goal (the environment must support
         * hindsightTask); llm: synthesizer_model proposes tasks as structured output. */
        synthesizer: z.enum(["hindsight", "llm"]).default("hindsight"),
        synthesizer_model: z.string().optional(),
        synthesizer_base_url: z.string().url().optional(),
        /** For an environment that grades only its own tasks (a remote env service such as AppWorld's): synthetic
         * tasks run in its training tasks' environments with the request sent through create's params, and this
         * model (openai:<model>, a .gguf, hf:…) grades them 0-100 seeing the reference solution; 41-59 is undecided
         * (not graded: the rollout is counted as errored and left out of the update). */
        judge_model: z.string().optional(),
        judge_base_url: z.string().url().optional(),
        /** Judge score (0-100) at or above which a judged synthetic task counts as solved. */
        judge_threshold: z.number().int().min(0).max(100).default(60),
        /** Explorations of each profile entity per synthesis round. */
        n: z.number().int().min(1).default(8),
        /** Fraction of each iteration's tasks drawn from the accepted synthetic tasks (the rest are seed tasks; fewer
         * synthetic tasks than that: all of them). */
        synthetic_ratio: z.number().min(0).max(1).default(0.5),
        /** A synthesis round before the first iteration, then every this many iterations; 0: only the first. */
        refresh_every: z.number().int().min(0).default(0),
        /** Exploration sampling temperature (curiosity: higher than the rollouts'). */
        temperature: z.number().min(0).default(1.2),
        /** Step budget of one exploration. */
        max_steps: z.number().int().min(1).default(8),
        /** A profile YAML (evolver env profile drafts one); default: the environment's own profile. */
        profile: z.string().optional(),
        /** Profile entities to explore; default all. */
        entities: z.array(z.string().min(1)).min(1).optional(),
        /** Embedding dedup: an embedder (use-lite, the offline default; openai:<model>), or none (lexical only). */
        embedder: z.union([EmbedderSpec, z.literal("none")]).default(DEFAULT_EMBEDDER),
        /** Token Jaccard at or above which a task is a lexical duplicate. */
        lexical_threshold: z.number().gt(0).max(1).default(0.9),
        /** Embedding cosine at or above which a task is a duplicate. */
        embedding_threshold: z.number().gt(0).max(1).default(0.97),
        /** Sampling weight of a task whose last group had zero reward variance (always or never solved: GRPO gets no
         * signal from it), against 1 for the others; 1 turns down-weighting off. */
        zero_variance_weight: z.number().min(0).max(1).default(0.25),
      })
      .strict()
      .prefault({})
      .superRefine((questioning, context) => {
        if (questioning.enabled && questioning.synthesizer === "llm" && !questioning.synthesizer_model) {
          context.addIssue({ code: "custom", path: ["synthesizer_model"], message: "synthesizer llm needs synthesizer_model, e.g. openai:gpt-4o-mini or a .gguf path" });
        }
      }),
    schedule: z
      .object({
        iterations: z.number().int().min(1).default(20),
        /** Evaluate on held-out tasks every this many iterations (and after the last). 0: never. */
        eval_every: z.number().int().min(0).default(5),
        eval_tasks: z.number().int().min(1).default(64),
        eval_k: z.number().int().min(1).default(1),
        eval_temperature: z.number().min(0).default(0),
        /**
         * One-step off-policy pipelining: once an iteration's rollouts are in (and the experience pool has learnt from
         * them), the next iteration's rollouts start with the weights before this iteration's update, while it
         * attributes, trains and checkpoints. Faster only where a core is free for the rollouts beside the update;
         * each update then trains on rollouts one update stale (the PPO ratio against the sampler's logprobs corrects
         * for that; the quick start needed more iterations with it, docs/performance.md), and a resumed run no longer
         * repeats an uninterrupted one exactly. Off: the exact on-policy loop.
         */
        overlap: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type EvolveConfig = z.infer<typeof EvolveConfig>;

/** The environment's type is known and its options fit its schema (a module's options are its own to check). */
function checkEnvironment(env: { type: string; path?: string; options: Record<string, unknown> }, context: z.core.$RefinementCtx): void {
  if (env.type === MODULE_ENVIRONMENT) {
    if (!env.path) context.addIssue({ code: "custom", path: ["path"], message: "type module needs path: the file of the environment's module" });
    return;
  }
  if (env.path !== undefined) context.addIssue({ code: "custom", path: ["path"], message: `path is for type module only, not ${env.type}` });
  registerBuiltinEnvironments();
  if (!knownEnvironments().includes(env.type)) {
    context.addIssue({ code: "custom", path: ["type"], message: `unknown environment type '${env.type}'; known: ${[...knownEnvironments(), MODULE_ENVIRONMENT].join(", ")}` });
    return;
  }
  const parsed = environmentOptionsSchema(env.type)?.safeParse(env.options);
  for (const issue of parsed?.success === false ? parsed.error.issues : []) {
    context.addIssue({ code: "custom", path: ["options", ...issue.path.map(String)], message: issue.message });
  }
}

function checkContextStrategy(spec: string, context: z.core.$RefinementCtx): void {
  try {
    createContextStrategy(spec);
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
  }
}

/** Applies `a.b.c=value` overrides; values are read as YAML scalars (numbers, booleans, null, strings). */
export function applyOverrides(raw: Record<string, unknown>, overrides: string[]): Record<string, unknown> {
  const result = structuredClone(raw);
  for (const override of overrides) {
    const eq = override.indexOf("=");
    if (eq <= 0) throw new EvolverError("CONFIG_INVALID", `override '${override}' is not of the form key.path=value`);
    const path = override.slice(0, eq).split(".");
    let node = result as Record<string, unknown>;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = parseYaml(override.slice(eq + 1));
  }
  return result;
}

export function parseConfig(raw: unknown, source = "config"): EvolveConfig {
  const parsed = EvolveConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new EvolverError("CONFIG_INVALID", `${source} has ${problems.length} problem(s):\n${problems.join("\n")}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

export function loadConfig(path: string, overrides: string[] = []): EvolveConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new EvolverError("CONFIG_NOT_FOUND", `cannot read config ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new EvolverError("CONFIG_INVALID", `${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new EvolverError("CONFIG_INVALID", `${path} must hold a YAML mapping`);
  return parseConfig(applyOverrides(raw as Record<string, unknown>, overrides), path);
}
