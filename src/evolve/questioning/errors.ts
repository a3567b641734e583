// Errors of self-questioning. Bad LLM output is never an error here: it is dropped and counted (RejectReason).
import { EvolverError } from "../../core/errors.js";

/** The environment cannot take part: it has no sandbox to explore, no hindsight, or no entity of that name. */
export function questioningUnsupportedError(message: string): EvolverError {
  return new EvolverError("QUESTIONING_UNSUPPORTED", message);
}
