// Everything a run checks before it starts, in one place, so that `evolver validate` refuses exactly what a run
// would refuse: the environment opens (a registered type with valid options, or the user's module), the judge can
// work with what the environment reports (the rule judge only where its steps report rewards), and the policy's
// files are where the config says and its chat template can be used by the rollout context. It also resolves what the config leaves to the environment (the judge), so the
// config stored with the run is the one that ran.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { EvolverError } from "../core/errors.js";
import { loadChatTemplate } from "../llm/index.js";
import { environmentCapabilities, MODULE_ENVIRONMENT, openEnvironment, type EnvCapabilities, type Environment } from "../env/index.js";
import { checkContextFits, createContextStrategy } from "../agent/index.js";
import { evolverPpoProblems, TinkerHttp, tinker, trainerFeatures } from "../train/index.js";
import type { EvolveConfig } from "./config.js";
import { loadProfile } from "../evolve/questioning/index.js";

export interface PreparedRun {
  /** The config with the environment's defaults resolved (attribution.judge) and env.path made absolute. */
  config: EvolveConfig;
  env: Environment;
  capabilities: EnvCapabilities;
}

/** What a remote Tinker server says it can do, against the loss and the policy the config asks of it. */
async function remoteTrainerProblems(config: EvolveConfig): Promise<string[]> {
  if (config.trainer.kind !== "remote") return [];
  const { url, api_key_env } = config.trainer;
  let capabilities: tinker.ServerCapabilities;
  try {
    const http = new TinkerHttp({ baseUrl: url, apiKey: process.env[api_key_env], requestTimeoutMs: 15_000, retries: 1 });
    capabilities = await http.get("get_server_capabilities", tinker.ServerCapabilities);
  } catch (error) {
    return [`trainer.url: cannot ask ${url} what it offers (${(error as Error).message})`];
  }
  const problems = evolverPpoProblems(config.loss, trainerFeatures(capabilities));
  const served = capabilities.supported_models.map((m) => m.model_name);
  if (served.length > 0 && !served.includes(config.policy.base_model)) {
    problems.push(`policy.base_model: the trainer at ${url} serves ${served.join(", ")}, not ${config.policy.base_model}`);
  }
  return problems;
}

/** Opens the run's environment and checks the config against it; CONFIG_INVALID lists every problem found. */
export async function prepareRun(input: EvolveConfig): Promise<PreparedRun> {
  const config: EvolveConfig = structuredClone(input);
  // Read from the working directory now and stored absolute, so a resume from elsewhere finds the same file.
  if (config.env.type === MODULE_ENVIRONMENT && config.env.path) config.env.path = resolve(config.env.path);
  if (config.questioning.profile) config.questioning.profile = resolve(config.questioning.profile);
  if (config.navigating.pool) config.navigating.pool = resolve(config.navigating.pool);
  if (config.trainer.kind === "none" && config.policy.base_model.endsWith(".gguf")) config.policy.base_model = resolve(config.policy.base_model);
  const env = await openEnvironment(config.env);
  try {
    const capabilities = await environmentCapabilities(env);
    const problems: string[] = [];
    const { attribution } = config;
    const trainingFree = config.trainer.kind === "none";
    if (!trainingFree && attribution.enabled && attribution.judge !== "llm" && !capabilities.stepRewards) {
      const why = attribution.judge === "rule" ? "the rule judge reads per-step rewards" : "the default judge (rule) reads per-step rewards";
      problems.push(
        `attribution.judge: ${why}, and ${env.name} reports none: every step would be judged BAD and training would ` +
          "silently fall back to GRPO. Choose an LLM judge (attribution.judge: llm, with attribution.judge_model: " +
          "openai:<model>, a .gguf path or hf:…) or turn attribution off (attribution.enabled: false: plain GRPO on the outcome)",
      );
    }
    if (attribution.enabled) attribution.judge ??= "rule";
    try {
      checkContextFits(createContextStrategy(config.rollout.context), { name: config.rollout.tool_format, nativeTools: config.rollout.tool_format === "native" }, env);
    } catch (error) {
      problems.push(`rollout.context: ${(error as Error).message}`);
    }
    const { navigating } = config;
    if (navigating.enabled && navigating.retrieval === "turn" && !createContextStrategy(config.rollout.context).appendOnly) {
      problems.push(
        `navigating.retrieval: turn puts experience in front of every turn, and context ${config.rollout.context} rewrites the history, ` +
          "which would move it; use an append-only context (linear, tool-retrieval:K) or retrieval: episode",
      );
    }
    if (!trainingFree && navigating.enabled && navigating.extractor === "llm" && !navigating.extractor_model) {
      problems.push("navigating.extractor: llm needs navigating.extractor_model (openai:<model>, a .gguf path or hf:…), or use extractor: rule");
    }
    // the local trainer is ours and computes every term; a remote one is asked what it offers
    if (!trainingFree && config.trainer.kind === "remote") problems.push(...(await remoteTrainerProblems(config)));
    const tokenizer = config.policy.tokenizer ?? join(config.policy.base_model, "tokenizer.json");
    if (trainingFree) {
      problems.push(...trainingFreeProblems(config));
    } else if (config.trainer.kind === "local" && !existsSync(join(config.policy.base_model, "config.json"))) {
      problems.push(`policy.base_model: ${config.policy.base_model} is not an HF model folder (no config.json); try 'evolver model tiny --out ${config.policy.base_model}'`);
    } else {
      // A missing tokenizer is named here too (policy.tokenizer may also be a folder or a package that ships one).
      problems.push(...templateProblems(config, tokenizer));
    }
    problems.push(...(await questioningProblems(config, env)));
    if ((await env.listTasks(config.env.train_split)).length === 0) problems.push(`env.train_split: ${env.name} has no ${config.env.train_split} tasks`);
    if (problems.length > 0) {
      throw new EvolverError("CONFIG_INVALID", `the run cannot start; ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`, {
        details: { problems },
      });
    }
    return { config, env, capabilities };
  } catch (error) {
    await env.close?.().catch(() => undefined);
    throw error;
  }
}

/** What a training-free run (trainer.kind none) needs: a pool to evolve and a model it can prompt. */
function trainingFreeProblems(config: EvolveConfig): string[] {
  const problems: string[] = [];
  if (!config.navigating.enabled) problems.push("navigating.enabled: trainer.kind none evolves only the experience pool; set navigating.enabled: true");
  if (config.sft.enabled) problems.push("sft.enabled: trainer.kind none trains nothing; set sft.enabled: false");
  if (config.questioning.enabled) problems.push("questioning.enabled: a training-free run rolls out seed tasks only; set questioning.enabled: false");
  if (config.schedule.overlap) problems.push("schedule.overlap: trainer.kind none has no update to overlap the next rollouts with; set schedule.overlap: false");
  const model = config.policy.base_model;
  if (model.endsWith(".gguf")) {
    if (!existsSync(model)) problems.push(`policy.base_model: no model file at ${model}; try 'evolver model tiny --out DIR' (it writes DIR/model.gguf)`);
  } else if (!/^(openai:.+|hf:.+)$/.test(model)) {
    problems.push(`policy.base_model: trainer.kind none prompts a model: openai:<model>, a .gguf path or hf:…, not ${model}`);
  }
  return problems;
}

/** Self-questioning needs a sandbox to explore (explorationSetup), hindsight needs hindsightTask, and the profile
 * (a file, or the environment's own) must name the entities to explore. */
async function questioningProblems(config: EvolveConfig, env: Environment): Promise<string[]> {
  const { questioning } = config;
  if (!questioning.enabled) return [];
  const problems: string[] = [];
  // With a judge, synthetic tasks run in the environment's training tasks (judgedEnvironment): exploration is always
  // possible, and only the LLM synthesizer can propose (nothing tells what a judged episode achieved).
  const judged = questioning.judge_model !== undefined;
  if (!env.explorationSetup && !judged) {
    problems.push(
      `questioning.enabled: ${env.name} cannot set up an exploration (no explorationSetup), so it cannot synthesize tasks; ` +
        "set questioning.judge_model (synthetic tasks in its training tasks' environments, graded by an LLM judge) or turn questioning off",
    );
  }
  if (questioning.synthesizer === "hindsight" && (judged || !env.hindsightTask)) {
    const why = judged ? "judged synthetic tasks (questioning.judge_model) have no hindsight" : `hindsight needs ${env.name} to tell what an episode achieved (hindsightTask)`;
    problems.push(`questioning.synthesizer: ${why}; use synthesizer: llm with a synthesizer_model`);
  }
  let entities: string[] | undefined;
  if (questioning.profile) {
    try {
      entities = loadProfile(questioning.profile).entities.map((e) => e.name);
    } catch (error) {
      problems.push(`questioning.profile: ${(error as Error).message}`);
    }
  } else {
    entities = (await env.profile()).entities.map((e) => e.name);
  }
  const unknown = entities ? (questioning.entities ?? []).filter((name) => !entities.includes(name)) : [];
  if (unknown.length > 0) problems.push(`questioning.entities: the profile has no ${unknown.join(", ")}; it has ${entities!.join(", ")}`);
  if (entities && entities.length === 0) problems.push("questioning.profile: the profile names no entity to explore");
  return problems;
}

/** The policy's chat template loads, and fits the rollout context (append-only contexts need a template that appends). */
function templateProblems(config: EvolveConfig, tokenizer: string): string[] {
  try {
    const { template } = loadChatTemplate(tokenizer, { chatTemplate: config.policy.chat_template });
    const problem = createContextStrategy(config.rollout.context).appendOnly ? template.appendOnlyProblem?.() : undefined;
    return problem ? [`rollout.context: ${config.rollout.context} appends each turn to the tokens so far, but ${problem}`] : [];
  } catch (error) {
    if (!EvolverError.isInstance(error)) throw error;
    return [`policy.${error.code === "LLM_TEMPLATE_MISSING" ? "chat_template" : "tokenizer"}: ${error.message}`];
  }
}
