// Error codes of the model layer. Each is an EvolverError with this code; details name the case.
//   LLM_AUTH             the server refused the credentials (401/403)
//   LLM_MODEL_NOT_FOUND  the server or the disk has no such model
//   LLM_BAD_JSON         structured output that is not valid JSON
//   LLM_BAD_REQUEST      the server rejected the request as malformed (400/422)
//   LLM_UNAVAILABLE      retries on 429/5xx/connection errors ran out
//   LLM_TIMEOUT          one call took longer than its timeout
//   LLM_ABORTED          the caller's AbortSignal fired
//   LLM_CONTEXT_OVERFLOW the prompt does not fit the model's context
//   LLM_MODEL_LOAD       the model file could not be loaded
//   LLM_SCRIPT_EXHAUSTED a scripted provider ran out of replies
//   LLM_TEMPLATE_MISMATCH the chat template does not fit the model's tokenizer
// Raised directly by the files that meet them: LLM_TOKENIZER_UNSUPPORTED / LLM_TOKENIZER_NOT_FOUND / LLM_TOKEN_UNKNOWN
// (tokenizer.ts), LLM_TINY_OPTIONS (tiny-model.ts), LLM_MODEL_FORMAT (safetensors.ts), LLM_EMBEDDER_SPEC (embedders.ts).
import { EvolverError } from "../core/errors.js";

export type LlmErrorCode =
  | "LLM_AUTH"
  | "LLM_MODEL_NOT_FOUND"
  | "LLM_BAD_JSON"
  | "LLM_BAD_REQUEST"
  | "LLM_UNAVAILABLE"
  | "LLM_TIMEOUT"
  | "LLM_ABORTED"
  | "LLM_CONTEXT_OVERFLOW"
  | "LLM_MODEL_LOAD"
  | "LLM_SCRIPT_EXHAUSTED"
  | "LLM_TEMPLATE_MISMATCH";

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
