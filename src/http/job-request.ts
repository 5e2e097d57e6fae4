/**
 * The `{ type, payload, ...options }` object that asks for one job (`POST
 * /jobs`, each item of its array form, `POST /workflows`): its fields as
 * facts, or the 400 that names what is missing or mistyped.
 */
import { errorResponse } from "./responses.ts";

/** One requested job: its type, its payload (null when left out) and the options beside them. */
export interface JobRequest {
  type: string;
  payload: unknown;
  options: Record<string, unknown>;
}

/** The `subject` of a request whose whole body is the job's object. */
export const REQUEST_BODY = "request body";

/**
 * Reads `fields`. `subject` names the object in messages ("request body",
 * "item 3"); `typeRole` says what its type is for ("the job type to
 * enqueue"). A missing or non-string `type` is a 400 INVALID_BODY naming it.
 */
export function readJobRequest(fields: Record<string, unknown>, subject: string, typeRole: string): JobRequest | Response {
  const { type, payload, ...options } = fields;
  if (type === undefined) return errorResponse(400, "INVALID_BODY", `${subject} needs "type", ${typeRole}`);
  if (typeof type !== "string") {
    // the whole body is the one object in question; an item is named
    const where = subject === REQUEST_BODY ? "" : `${subject}: `;
    return errorResponse(400, "INVALID_BODY", `${where}"type" must be a string, got ${JSON.stringify(type)}`);
  }
  return { type, payload: payload === undefined ? null : payload, options };
}
