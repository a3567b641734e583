// The policy being evolved: its trainer (the local Python trainer started here, or any remote server of the Tinker
// protocol), its training client, and the chat template its prompts are rendered with.
import { join, resolve } from "node:path";
import { loadChatTemplate, type ChatTemplate } from "../llm/index.js";
import { EvolverError } from "../core/errors.js";
import { evolverPpoProblems, evolverPpoRoute, LocalTrainer, TinkerClient, trainerFeatures, type EvolverPpoRoute, type TrainingClient } from "../train/index.js";
import type { EvolveConfig } from "./config.js";

export interface Policy {
  trainer?: LocalTrainer;
  client: TinkerClient;
  training: TrainingClient;
  template: ChatTemplate;
  /** The policy's context in tokens, where the trainer says (a rollout's prompt and replies must fit in it). */
  contextTokens?: number;
  /** How evolver_ppo runs there: computed by the trainer, or linearised onto its cross_entropy (src/train/evolver-ppo.ts). */
  route: EvolverPpoRoute;
  close(): Promise<void>;
}

export async function openPolicy(config: EvolveConfig, checkpointDir: string, log: (line: string) => void): Promise<Policy> {
  // The files were checked by prepareRun (prepare.ts).
  const { template } = loadChatTemplate(policyTokenizerPath(config), { chatTemplate: config.policy.chat_template });

  let trainer: LocalTrainer | undefined;
  let client: TinkerClient;
  // After a crash the launcher restarts the server; the training client then reloads its last saved state.
  let training: TrainingClient | undefined;
  const trainerConfig = config.trainer;
  if (trainerConfig.kind === "none") throw new EvolverError("CONFIG_INVALID", "trainer.kind none has no trainable policy (a training-free run prompts its model)");
  if (trainerConfig.kind === "local") {
    trainer = await LocalTrainer.start({
      baseModel: resolve(config.policy.base_model),
      python: trainerConfig.python,
      device: trainerConfig.device,
      loraRank: trainerConfig.lora_rank,
      checkpointDir,
      microBatchTokens: trainerConfig.micro_batch_tokens,
      sampling: trainerConfig.sampling,
      onLog: (line) => {
        if (/error|Traceback/i.test(line)) log(`trainer: ${line}`);
      },
      onRestart: (count) => {
        log(`trainer crashed; restarted (${count}), recovering the last checkpoint`);
        void training?.recover().catch((error) => log(`trainer recovery failed: ${(error as Error).message}`));
      },
    });
    const blas = trainer.blas ? `, OpenBLAS ${trainer.blas} kernels` : "";
    log(`trainer: local (pid ${trainer.pid}), device ${trainer.device}, dtype ${trainer.dtype}${blas}, ${trainerConfig.sampling} sampling`);
    client = await trainer.connect();
  } else {
    log(`trainer: remote ${trainerConfig.url}`);
    const apiKey = process.env[trainerConfig.api_key_env];
    client = await TinkerClient.connect({ baseUrl: trainerConfig.url, ...(apiKey ? { apiKey } : {}) });
  }
  training = await client.createTrainingClient({
    // The local trainer knows its model by folder; a remote one by the name it serves.
    baseModel: trainer ? resolve(config.policy.base_model) : config.policy.base_model,
    loraRank: trainerConfig.lora_rank,
    seed: config.run.seed,
  });
  // Known up front, a prompt that does not fit is refused with its size, and running out of context mid-episode
  // ends the episode (a result) rather than failing the trainer's call (an error).
  const capabilities = await client.capabilities().catch(() => undefined);
  const models = capabilities?.supported_models ?? [];
  // prepareRun asked the same where it could; the server that answers now is the one that counts
  const features = trainerFeatures(capabilities ?? { supported_models: [] });
  const problems = evolverPpoProblems(config.loss, features);
  if (problems.length > 0) {
    client.close();
    await trainer?.stop();
    throw new EvolverError("CONFIG_INVALID", `the trainer cannot run this loss:\n${problems.map((p) => `  - ${p}`).join("\n")}`, { details: { problems } });
  }
  const route = evolverPpoRoute(features);
  if (route === "linearised") log("trainer: no evolver_ppo there; its gradient goes through cross_entropy (forward, then weighted forward_backward)");
  const served = models.find((m) => m.model_name === (trainer ? resolve(config.policy.base_model) : config.policy.base_model)) ?? (models.length === 1 ? models[0] : undefined);
  return {
    trainer,
    client,
    training,
    template,
    contextTokens: served?.max_context_length ?? undefined,
    route,
    async close() {
      client.close();
      await trainer?.stop();
    },
  };
}

/** Where the policy's tokenizer files are: policy.tokenizer, else the base model's folder. */
export function policyTokenizerPath(config: EvolveConfig): string {
  return config.policy.tokenizer ?? join(config.policy.base_model, "tokenizer.json");
}
