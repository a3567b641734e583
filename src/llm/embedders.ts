// An Embedder from a spec string, through this one table:
//   use-lite          the offline default: Universal Sentence Encoder lite, 512-d, shipped in an npm package
//   openai:<model>    any OpenAI-compatible /v1/embeddings endpoint (base URL from the option or OPENAI_BASE_URL,
//                     key from OPENAI_API_KEY; never from a config file or the command line)
import { z } from "zod";
import { llmError } from "./errors.js";
import type { Embedder } from "./embedding-types.js";
import { OFFLINE_EMBEDDER_ID, OfflineEmbedder } from "./embedder-offline.js";
import { OpenAIEmbedder } from "./embedder-openai.js";

export const EmbedderSpec = z
  .string()
  .regex(new RegExp(`^(${OFFLINE_EMBEDDER_ID}|openai:.+)$`), `an embedder is '${OFFLINE_EMBEDDER_ID}' (offline) or 'openai:<model>'`);
export type EmbedderSpec = z.infer<typeof EmbedderSpec>;

export const DEFAULT_EMBEDDER: EmbedderSpec = OFFLINE_EMBEDDER_ID;

export async function createEmbedder(spec: string, options: { baseUrl?: string } = {}): Promise<Embedder> {
  const parsed = EmbedderSpec.safeParse(spec);
  if (!parsed.success) throw llmError("LLM_EMBEDDER_SPEC", `unknown embedder '${spec}': ${parsed.error.issues[0].message}`, { details: { spec } });
  if (spec === OFFLINE_EMBEDDER_ID) return OfflineEmbedder.load();
  return OpenAIEmbedder.open({ model: spec.slice("openai:".length), baseURL: options.baseUrl });
}
