// Errors of self-attribution. Each has a stable code; callers branch on the code, never on the message.
import { EvolverError } from "../../core/index.js";

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
