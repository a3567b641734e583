// The one error type of Evolver. Every failure that a user can cause or meet carries a stable `code`
// (e.g. ENV_UNKNOWN, LLM_BAD_JSON, TRAINER_UNREACHABLE) and the fields that describe the case.
// Only cli/ and the HTTP servers turn codes into exit statuses or HTTP statuses.

const marker = Symbol.for("evolver.error");

export class EvolverError extends Error {
  readonly [marker] = true;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EvolverError";
    this.code = code;
    this.details = options.details ?? {};
  }

  /** Works across two loaded copies of the package, unlike instanceof. */
  static isInstance(value: unknown): value is EvolverError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** A short, human-readable description of any thrown value, without a stack trace. */
export function describeError(error: unknown): string {
  if (EvolverError.isInstance(error)) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
