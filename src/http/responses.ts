/**
 * JSON responses and the mapping from SpoolError codes to HTTP statuses.
 */
import { SpoolError, type SpoolErrorCode } from "../core/errors.ts";

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** An error body: `{ error: { code, message } }`. */
export function errorResponse(status: number, code: string, message: string, headers?: Record<string, string>): Response {
  return json({ error: { code, message } }, status, headers);
}

const STATUS_OF_CODE: Partial<Record<SpoolErrorCode, number>> = {
  INVALID_PAYLOAD: 400,
  INVALID_OPTIONS: 400,
  INVALID_CRON: 400,
  INVALID_CONFIG: 400,
  JOB_NOT_FOUND: 404,
  WORKFLOW_NOT_FOUND: 404,
  SCHEDULE_NOT_FOUND: 404,
  INVALID_STATE: 409,
  DUPLICATE_SCHEDULE: 409,
  DATABASE_BUSY: 503,
  DATABASE_UNAVAILABLE: 503,
  // 507 Insufficient Storage: the request was fine, the store has no room for it
  STORAGE_FULL: 507,
  DATABASE_CORRUPT: 503,
  CLOSED: 503,
};

export function spoolErrorResponse(error: SpoolError): Response {
  return errorResponse(STATUS_OF_CODE[error.code] ?? 500, error.code, error.message);
}
