// Error codes of the model layer. Each is an EvolverError with one of these codes; details name the case.
// `llmErrorCodes` is the one list: the type of a code is derived from it, every error of src/llm is made through
// `llmError` (so the typechecker refuses a code not listed), and errors.test.ts checks that no code is written
// anywhere else in src/llm.
import { EvolverError } from "../core/errors.js";

export const llmErrorCodes = {
  LLM_AUTH: "the server refused the credentials (401/403)",
  LLM_MODEL_NOT_FOUND: "the server or the disk has no such model",
  LLM_MODEL_LOAD: "the model file could not be loaded",
  LLM_MODEL_FORMAT: "a weights file is not what it claims to be (safetensors header, dtype)",
  LLM_BAD_JSON: "structured output that is not valid JSON",
  LLM_BAD_REQUEST: "the request is malformed or asks what the backend cannot do (400/422)",
  LLM_UNAVAILABLE: "retries on 429/5xx/connection errors ran out",
  LLM_TIMEOUT: "one call took longer than its timeout",
  LLM_ABORTED: "the caller's AbortSignal fired",
  LLM_CONTEXT_OVERFLOW: "the prompt does not fit the model's context",
  LLM_SCRIPT_EXHAUSTED: "a scripted provider ran out of replies",
  LLM_TEMPLATE_MISSING: "the model carries no chat template, or the template file cannot be read",
  LLM_TEMPLATE_MISMATCH: "the chat template does not fit the model's tokenizer, or does not parse",
  LLM_TEMPLATE_RENDER: "the chat template raised on the conversation",
  LLM_TEMPLATE_NOT_APPEND_ONLY: "the template renders earlier turns differently once later turns follow",
  LLM_TOKENIZER_NOT_FOUND: "no tokenizer files where they were looked for",
  LLM_TOKENIZER_UNSUPPORTED: "a tokenizer kind or setting the tokenizers here do not implement",
  LLM_TOKEN_UNKNOWN: "a token text that is not in the vocabulary",
  LLM_TINY_OPTIONS: "bad options for a tiny random-weight model",
  LLM_EMBEDDER_SPEC: "an embedder spec that names no known embedder",
} as const;

export type LlmErrorCode = keyof typeof llmErrorCodes;

export function llmError(code: LlmErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}): EvolverError {
  return new EvolverError(code, message, options);
}

/** LLM_CONTEXT_OVERFLOW in one wording wherever it is met: "8,523-token prompt in a 2,048-token context". */
export function contextOverflowError(promptTokens: number, contextTokens: number): EvolverError {
  const count = (n: number) => n.toLocaleString("en-US");
  return llmError("LLM_CONTEXT_OVERFLOW", `${count(promptTokens)}-token prompt in a ${count(contextTokens)}-token context`, {
    details: { promptTokens, contextTokens },
  });
}
