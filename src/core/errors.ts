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
  | "WORKFLOW_NOT_FOUND"
  | "RESULT_TOO_LARGE"
  | "INVALID_STATE"
  | "ILLEGAL_TRANSITION"
  | "DUPLICATE_SCHEDULE"
  | "SCHEDULE_NOT_FOUND"
  | "TIMED_OUT"
  | "LEASE_LOST"
  | "DATABASE_BUSY"
  | "DATABASE_UNAVAILABLE"
  | "STORAGE_FULL"
  | "DATABASE_CORRUPT"
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

/**
 * How much of a handler's error message, and separately of its stack, is
 * stored with an attempt: 8 KiB of UTF-8 each. A message of megabytes (a
 * whole response body, say) would otherwise be stored three times over, in
 * the attempt history, `last_error` and the stack.
 */
export const MAX_ERROR_TEXT_BYTES = 8 * 1024;

const utf8 = new TextEncoder();

/**
 * `text` cut to at most `maxBytes` bytes of UTF-8 (default 8 KiB), never
 * inside a character, with a note saying how long it was. Short text comes
 * back as it is.
 */
export function boundErrorText(text: string, maxBytes: number = MAX_ERROR_TEXT_BYTES): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: short text needs no encoding
  if (text.length * 3 <= maxBytes) return text;
  const bytes = utf8.encode(text);
  if (bytes.byteLength <= maxBytes) return text;
  const note = ` ... [cut: ${bytes.byteLength} bytes in all]`;
  let end = Math.max(0, maxBytes - note.length);
  // step back off UTF-8 continuation bytes so no character is split
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end)) + note;
}
