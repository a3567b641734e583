// Errors of self-attribution. Each has a stable code; callers branch on the code, never on the message.
import { EvolverError } from "../../core/index.js";

/** The judge answered with text that is not JSON, or JSON that does not match the verdict schema. */
export function judgeBadJsonError(message: string, details: Record<string, unknown>, cause?: unknown): EvolverError {
  return new EvolverError("LLM_BAD_JSON", message, { details, cause });
}

/** The judge labelled a different number of steps than the trajectory has, or skipped or repeated a step. */
export function judgeVerdictCountError(expected: number, got: number, trajectoryId: string): EvolverError {
  return new EvolverError(
    "JUDGE_VERDICT_COUNT",
    `the judge gave ${got} verdicts for trajectory '${trajectoryId}', which has ${expected} steps`,
    { details: { expected, got, trajectoryId } },
  );
}

/** Inputs to the advantage or loss maths have inconsistent shapes (a programming error upstream). */
export function advantageShapeError(message: string, details: Record<string, unknown> = {}): EvolverError {
  return new EvolverError("ADVANTAGE_SHAPE", message, { details });
}
