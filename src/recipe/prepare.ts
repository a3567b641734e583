// Everything a run checks before it starts, in one place, so that `evolver validate` refuses exactly what a run
// would refuse: the environment opens (a registered type with valid options, or the user's module), the judge can
// work with what the environment reports (the rule judge only where its steps report rewards), and the policy's
// files are where the config says. It also resolves what the config leaves to the environment (the judge), so the
// config stored with the run is the one that ran.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { EvolverError } from "../core/errors.js";
import { environmentCapabilities, MODULE_ENVIRONMENT, openEnvironment, type EnvCapabilities, type Environment } from "../env/index.js";
import { evolverPpoProblems, TinkerHttp, tinker, trainerFeatures } from "../train/index.js";
import type { EvolveConfig } from "./config.js";

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
  const env = await openEnvironment(config.env);
  try {
    const capabilities = await environmentCapabilities(env);
    const problems: string[] = [];
    const { attribution } = config;
    if (attribution.enabled && attribution.judge !== "llm" && !capabilities.stepRewards) {
      const why = attribution.judge === "rule" ? "the rule judge reads per-step rewards" : "the default judge (rule) reads per-step rewards";
      problems.push(
        `attribution.judge: ${why}, and ${env.name} reports none: every step would be judged BAD and training would ` +
          "silently fall back to GRPO. Choose an LLM judge (attribution.judge: llm, with attribution.judge_model: " +
          "openai:<model>, a .gguf path or hf:…) or turn attribution off (attribution.enabled: false: plain GRPO on the outcome)",
      );
    }
    if (attribution.enabled) attribution.judge ??= "rule";
    // the local trainer is ours and computes every term; a remote one is asked what it offers
    if (config.trainer.kind === "remote") problems.push(...(await remoteTrainerProblems(config)));
    const tokenizer = config.policy.tokenizer ?? join(config.policy.base_model, "tokenizer.json");
    if (config.trainer.kind === "local" && !existsSync(join(config.policy.base_model, "config.json"))) {
      problems.push(`policy.base_model: ${config.policy.base_model} is not an HF model folder (no config.json); try 'evolver model tiny --out ${config.policy.base_model}'`);
    } else if (!existsSync(tokenizer)) {
      problems.push(`policy.tokenizer: no tokenizer at ${tokenizer}; set policy.tokenizer to the model's tokenizer.json`);
    }
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
