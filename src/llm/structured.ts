// Structured output in one place: ask a provider for JSON under a JSON Schema, read the answer leniently (a Markdown
// fence some models add is taken off), check it with a zod schema, and count what was wrong. The step judge, the
// experience extractor, the LLM task synthesizer and the profile drafter all go through here, so "the model said
// something unusable" is counted the same way everywhere and never throws out of a run.
import { z } from "zod";
import { EvolverError } from "../core/errors.js";
import type { ChatMessage } from "../core/messages.js";
import { llmError } from "./errors.js";
import type { LlmProvider } from "./types.js";

/** JSON.parse of a model's answer, fence removed; undefined when it is not JSON. */
export function readJsonAnswer(text: string): unknown {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  try {
    return JSON.parse(fenced ? fenced[1] : text);
  } catch {
    return undefined;
  }
}

/** The answer checked against `schema`, or LLM_BAD_JSON naming what is wrong (not JSON; which fields do not fit). */
export function parseStructured<T>(text: string, schema: z.ZodType<T>, what = "the answer"): T {
  const json = readJsonAnswer(text);
  if (json === undefined) {
    throw llmError("LLM_BAD_JSON", `${what} is not JSON`, { details: { excerpt: text.slice(0, 200) } });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw llmError("LLM_BAD_JSON", `${what} does not match the schema: ${z.prettifyError(parsed.error)}`, {
      details: { excerpt: text.slice(0, 200) },
    });
  }
  return parsed.data;
}

export interface StructuredRequest<T, R> {
  provider: LlmProvider;
  messages: ChatMessage[];
  /** Checks the parsed JSON; lenient schemas let the caller drop bad items one by one instead of the whole answer. */
  schema: z.ZodType<T>;
  /** Sent as structured output (OpenAI's json_schema; the embedded model's grammar). */
  jsonSchema: { name: string; schema: Record<string, unknown> };
  /** Further checks or a conversion; throwing counts the answer as invalid (an EvolverError's code is kept). */
  interpret?: (value: T) => R;
  /** Calls at most (default 1): a failed call or an invalid answer is retried until then. */
  maxAttempts?: number;
  /** On a retry after an invalid answer, show the model its answer and what was wrong with it (default false). */
  feedback?: boolean;
  /** Names the answer in error messages ("the judge's answer for trajectory 't1'"). */
  what?: string;
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  signal?: AbortSignal;
}

export type StructuredOutcome<R> = (
  | { ok: true; value: R }
  | {
      ok: false;
      /** What went wrong on the last attempt: LLM_BAD_JSON, the interpreter's error, or the provider's. */
      error: EvolverError;
    }
) & {
  /** Calls made. */
  attempts: number;
  /** Answers that came back but were unusable (not JSON, not the schema, refused by `interpret`). */
  invalid: number;
  /** Calls that threw (transport, server, script exhausted). */
  failedCalls: number;
};

function asEvolverError(error: unknown, code: "LLM_BAD_JSON" | "LLM_UNAVAILABLE"): EvolverError {
  if (EvolverError.isInstance(error)) return error;
  return llmError(code, error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * One structured answer, with up to `maxAttempts` calls. Never throws: what the model or its server did wrong is in
 * the outcome, and an aborted `signal` ends the attempts with LLM_ABORTED (a caller that must stop checks its signal).
 */
export async function chatStructured<T, R = T>(request: StructuredRequest<T, R>): Promise<StructuredOutcome<R>> {
  const maxAttempts = Math.max(1, request.maxAttempts ?? 1);
  const what = request.what ?? "the answer";
  let messages = request.messages;
  let invalid = 0;
  let failedCalls = 0;
  let lastError: EvolverError = llmError("LLM_ABORTED", "aborted before the model was called");
  let attempts = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (request.signal?.aborted) break;
    attempts = attempt;
    let text: string;
    try {
      const completion = await request.provider.chat({
        messages,
        temperature: request.temperature,
        maxTokens: request.maxTokens,
        seed: request.seed,
        jsonSchema: request.jsonSchema,
        signal: request.signal,
      });
      text = completion.message.content;
    } catch (error) {
      lastError = asEvolverError(error, "LLM_UNAVAILABLE");
      // A backend that checks JSON itself (the embedded model) throws LLM_BAD_JSON: an invalid answer all the same.
      if (lastError.code === "LLM_BAD_JSON") invalid += 1;
      else failedCalls += 1;
      continue;
    }
    try {
      const parsed = parseStructured(text, request.schema, what);
      const value = request.interpret ? request.interpret(parsed) : (parsed as unknown as R);
      return { ok: true, value, attempts, invalid, failedCalls };
    } catch (error) {
      invalid += 1;
      lastError = asEvolverError(error, "LLM_BAD_JSON");
      if (request.feedback) {
        messages = [
          ...request.messages,
          { role: "assistant", content: text },
          { role: "user", content: `That answer cannot be used: ${lastError.message}. Answer again with JSON only, fixing exactly that.` },
        ];
      }
    }
  }
  return { ok: false, error: lastError, attempts, invalid, failedCalls };
}
