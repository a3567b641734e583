// The environment service's error codes and the one table that turns an error into an HTTP status and a JSON body.
// Every failure reaches the wire through `errorResponse`, so a bad request is always a clear 4xx naming the problem
// and never a stack trace.
import { EvolverError, describeError } from "../../core/errors.js";

const httpStatusByCode: Record<string, number> = {
  ENV_SERVICE_BAD_JSON: 400,
  ENV_SERVICE_BAD_REQUEST: 400,
  ENV_UNKNOWN: 400,
  ENV_BAD_OPTIONS: 400,
  ENV_UNKNOWN_TASK: 404,
  ENV_INSTANCE_UNKNOWN: 404,
  ENV_SERVICE_NOT_FOUND: 404,
  ENV_SERVICE_METHOD_NOT_ALLOWED: 405,
  ENV_INSTANCE_EXISTS: 409,
  ENV_EPISODE_DONE: 409,
  ENV_INSTANCE_EXPIRED: 410,
  ENV_SERVICE_BODY_TOO_LARGE: 413,
  ENV_SERVICE_FULL: 503,
  ENV_SERVICE_CLOSING: 503,
};

/** The body of every error response: `detail` as FastAPI writes it (AgentEvolver's server), `error` for programs. */
export interface ErrorBody {
  success: false;
  detail: string;
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Maps any thrown value to a status and body. An EvolverError with a code not in the table is the environment's
 * own failure (missing data, a broken backend): 500, but still with its code and message.
 */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (EvolverError.isInstance(error)) {
    const details = Object.keys(error.details).length > 0 ? error.details : undefined;
    return {
      status: httpStatusByCode[error.code] ?? 500,
      body: { success: false, detail: error.message, error: { code: error.code, message: error.message, details } },
    };
  }
  const message = `internal error: ${describeError(error)}`;
  return { status: 500, body: { success: false, detail: message, error: { code: "ENV_SERVICE_INTERNAL", message } } };
}
