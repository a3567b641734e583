// `--model` specs → the policy a rollout samples from. The backend is picked from the spec's form through this one
// table, never by importing a module named in the spec.
//   openai:<model>                       any OpenAI-compatible server (base URL from the option or
//                                        OPENAI_BASE_URL, key from OPENAI_API_KEY; never from the command line)
//   <path>.gguf, hf:<user>/<repo>[:q]    the embedded llama.cpp model (node-llama-cpp resolves hf: URIs)
import { z } from "zod";
import { EvolverError } from "../core/errors.js";
import { createEmbeddedProvider, createOpenAIProvider, EmbeddedModel, ggufChatTemplate } from "../llm/index.js";
import type { PolicyModel } from "./model-drivers.js";

export const ModelSpecOptions = z
  .object({
    /** openai: the server's base URL (…/v1). */
    baseUrl: z.string().url().optional(),
    /** Embedded models: "chat" through the provider, or "tokens" (token in, token out, through the model's own chat template). */
    mode: z.enum(["chat", "tokens"]).default("chat"),
    /** Calls in flight the backend should allow (the rollout concurrency). */
    concurrency: z.number().int().min(1).default(8),
    /** Embedded models: tokens per sequence. */
    contextSize: z.number().int().min(128).optional(),
  })
  .strict();
export type ModelSpecOptions = z.input<typeof ModelSpecOptions>;

export interface LoadedPolicyModel {
  model: PolicyModel;
  /** The model's context in tokens, where the backend knows it (use it as the rollouts' contextLimitTokens). */
  contextTokens?: number;
  close(): Promise<void>;
}

export async function createPolicyModel(spec: string, options: ModelSpecOptions = {}): Promise<LoadedPolicyModel> {
  const parsed = ModelSpecOptions.safeParse(options);
  if (!parsed.success) throw new EvolverError("AGENT_MODEL_SPEC", `model options: ${z.prettifyError(parsed.error)}`);
  const { baseUrl, mode, concurrency, contextSize } = parsed.data;

  if (spec.startsWith("openai:")) {
    const model = spec.slice("openai:".length);
    if (model === "") throw new EvolverError("AGENT_MODEL_SPEC", "openai: needs a model name, e.g. openai:gpt-4o-mini");
    if (mode === "tokens") throw new EvolverError("AGENT_MODEL_SPEC", "openai: models are served as chat only (mode tokens needs an embedded model)");
    const provider = createOpenAIProvider({ model, baseURL: baseUrl, maxConcurrency: concurrency });
    return { model: { kind: "chat", provider }, close: async () => undefined };
  }

  if (spec.endsWith(".gguf") || spec.startsWith("hf:")) {
    if (mode === "tokens") {
      const sampler = await EmbeddedModel.load({ model: spec, sequences: concurrency, contextSize });
      let template;
      try {
        template = ggufChatTemplate(sampler);
      } catch (error) {
        await sampler.close();
        throw error;
      }
      return { model: { kind: "tokens", sampler, template }, contextTokens: sampler.contextSize, close: () => sampler.close() };
    }
    const provider = await createEmbeddedProvider({ model: spec, sequences: concurrency, contextSize });
    return { model: { kind: "chat", provider }, contextTokens: provider.model.contextSize, close: () => provider.close() };
  }

  throw new EvolverError("AGENT_MODEL_SPEC", `unknown model spec '${spec}'; use openai:<model>, a .gguf path, or hf:<user>/<repo>[:quant]`, {
    details: { spec },
  });
}
