/**
 * Stable error codes. A code never changes meaning once shipped; messages may
 * be reworded, so callers branch on `code`, never on `message`.
 */
export type SpoolErrorCode =
  | "INVALID_PAYLOAD"
  | "INVALID_OPTIONS"
  | "INVALID_CONFIG"
  | "INVALID_CRON"
  | "UNKNOWN_JOB_TYPE"
  | "JOB_NOT_FOUND"
  | "INVALID_STATE"
  | "ILLEGAL_TRANSITION"
  | "DUPLICATE_SCHEDULE"
  | "SCHEDULE_NOT_FOUND"
  | "TIMED_OUT"
  | "LEASE_LOST"
  | "DATABASE_BUSY"
  | "DATABASE_UNAVAILABLE"
  | "CLOSED";

/** The one error class Spool throws. `code` is stable; `message` names the bad value. */
export class SpoolError extends Error {
  override readonly name = "SpoolError";
  readonly code: SpoolErrorCode;

  constructor(code: SpoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Thrown by a handler to fail its job with no further attempts: the job goes
 * straight to `dead`, whatever attempts it has left.
 */
export class PermanentError extends Error {
  override readonly name: string = "PermanentError";
}

/**
 * True for a PermanentError, also one from another copy of Spool (a jobs
 * module may load its own), recognised by name.
 */
export function isPermanentError(error: unknown): boolean {
  return error instanceof PermanentError || (error instanceof Error && error.name === "PermanentError");
}

/** Anything a handler throws, as an Error, so the attempt history always has a message. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === "string") return new Error(thrown);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(thrown)}`);
  } catch {
    return new Error(`non-error thrown: ${String(thrown)}`);
  }
}
