// Error codes of the training layer. Each is an EvolverError with this code; details name the case.
//   TRAINER_UNREACHABLE     no answer from the trainer (connection refused, retries ran out)
//   TRAINER_AUTH            the trainer refused the API key (401/403)
//   TRAINER_BAD_REQUEST     the trainer rejected a request as malformed or invalid (4xx with a detail)
//   TRAINER_REQUEST_FAILED  an accepted request failed while running (a failed future: error + category)
//   TRAINER_BAD_RESPONSE    an answer that does not match the protocol's schema
//   TRAINER_TIMEOUT         a future did not finish within its time limit
//   TRAINER_ABORTED         the caller's AbortSignal fired
//   TRAINER_START_FAILED    the local trainer process did not come up (python, torch, the model folder)
//   TRAINER_NO_CHECKPOINT   recovery was asked for, but no training state was ever saved
//   TRAINER_DATUM_SHAPE     token sequences, masks and per-token inputs disagree in length
import { EvolverError } from "../core/errors.js";

export type TrainerErrorCode =
  | "TRAINER_UNREACHABLE"
  | "TRAINER_AUTH"
  | "TRAINER_BAD_REQUEST"
  | "TRAINER_REQUEST_FAILED"
  | "TRAINER_BAD_RESPONSE"
  | "TRAINER_TIMEOUT"
  | "TRAINER_ABORTED"
  | "TRAINER_START_FAILED"
  | "TRAINER_NO_CHECKPOINT"
  | "TRAINER_DATUM_SHAPE";

export function trainerError(
  code: TrainerErrorCode,
  message: string,
  options: { details?: Record<string, unknown>; cause?: unknown } = {},
): EvolverError {
  return new EvolverError(code, message, options);
}
