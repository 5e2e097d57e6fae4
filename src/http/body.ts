/**
 * Request bodies, read as a stream and cut off at a limit whatever the
 * transfer encoding: a declared Content-Length over the limit is refused
 * before a byte is read, and a chunked body stops being read at the first
 * chunk that crosses it, so memory never holds more than the limit.
 */
import { SpoolError } from "../core/errors.ts";
import { jsonTextDepth } from "../core/payload.ts";
import { errorResponse, spoolErrorResponse } from "./responses.ts";

/** Room a request body gets beyond the largest payload, for the options around it. */
export const BODY_OVERHEAD_BYTES = 64 * 1024;

/** A refusal from the body checks: its status, code and message. */
export interface BodyRefusal {
  status: 400 | 413 | 415;
  code: "BODY_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "INVALID_BODY";
  message: string;
}

/** A request whose body, if any, can no longer be read past the limit. */
export interface BoundedRequest {
  request: Request;
  /** True once the body crossed the limit (its stream then errors). */
  exceeded(): boolean;
}

/** Refuses a declared body over `maxBytes` (413); run before anything reads the body. */
export function declaredSizeRefusal(request: Request, maxBytes: number): BodyRefusal | null {
  const declared = request.headers.get("content-length");
  if (declared === null || !/^\d+$/.test(declared.trim()) || Number(declared) <= maxBytes) return null;
  return { status: 413, code: "BODY_TOO_LARGE", message: `request body is ${Number(declared)} bytes, over the limit of ${maxBytes}` };
}

/** Whether `contentType` is JSON: `application/json`, with or without parameters such as charset. */
export function isJsonContentType(contentType: string | null): boolean {
  return contentType !== null && contentType.split(";")[0]!.trim().toLowerCase() === "application/json";
}

/**
 * For a mutation: refuses a body that is not `application/json` (415), and
 * hands back the request with its body bounded at `maxBytes`. A mutation
 * without a body (a bare `curl -X POST`) passes as it is.
 */
export async function boundBody(request: Request, maxBytes: number): Promise<BoundedRequest | BodyRefusal> {
  const unbounded = { request, exceeded: () => false };
  if (request.method === "GET" || request.method === "HEAD" || request.body === null) return unbounded;
  const declared = request.headers.get("content-length")?.trim();
  if (declared === "0") return unbounded;
  const reader = request.body.getReader();
  let first: ReadableStreamReadResult<Uint8Array>;
  // A body with no declared length may still be empty (a server hands every POST a stream): look at its first bytes.
  try {
    do first = await reader.read();
    while (!first.done && first.value.byteLength === 0);
  } catch (error) {
    return { status: 400, code: "INVALID_BODY", message: `request body could not be read: ${(error as Error)?.message ?? String(error)}` };
  }
  if (first.done) return { request: rebuild(request, null), exceeded: () => false };
  if (!isJsonContentType(request.headers.get("content-type"))) {
    void reader.cancel().catch(() => undefined);
    const given = request.headers.get("content-type");
    return {
      status: 415,
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: `a request body must be JSON with content-type: application/json; got ${given === null ? "no content-type" : JSON.stringify(given)}`,
    };
  }
  let size = 0;
  let exceeded = false;
  let pending: Uint8Array | null = first.value;
  const bounded = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: Uint8Array;
      if (pending !== null) {
        chunk = pending;
        pending = null;
      } else {
        const next = await reader.read();
        if (next.done) {
          controller.close();
          return;
        }
        chunk = next.value;
      }
      size += chunk.byteLength;
      if (size > maxBytes) {
        exceeded = true;
        void reader.cancel().catch(() => undefined);
        controller.error(new Error(`request body is over the limit of ${maxBytes} bytes`));
        return;
      }
      controller.enqueue(chunk);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { request: rebuild(request, bounded), exceeded: () => exceeded };
}

/** The answer for a body over the limit. */
export function bodyTooLarge(maxBytes: number): Response {
  return errorResponse(413, "BODY_TOO_LARGE", `request body is over the limit of ${maxBytes} bytes`);
}

function rebuild(request: Request, body: ReadableStream<Uint8Array> | null): Request {
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers: request.headers, body, signal: request.signal };
  if (body !== null) init.duplex = "half";
  return new Request(request.url, init);
}

type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

/**
 * Reads a JSON object body (or, with `allowArray`, an array of them) of at
 * most `maxBytes`, whose payloads nest at most `maxDepth` levels, or says in
 * a 400/413 what is wrong with it.
 */
export async function readJsonObject(request: Request, maxBytes: number, maxDepth: number, allowArray = false): Promise<BodyResult> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        void reader.cancel().catch(() => undefined);
        return { ok: false, response: bodyTooLarge(maxBytes) };
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return { ok: false, response: errorResponse(400, "INVALID_BODY", "request body is empty; send a JSON object") };
  // an array wraps each payload in one level more
  const depthError = bodyDepthError(text, maxDepth, allowArray ? 2 : 1);
  if (depthError) return { ok: false, response: spoolErrorResponse(depthError) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, response: errorResponse(400, "INVALID_JSON", `request body is not valid JSON: ${(error as Error).message}`) };
  }
  if (typeof value !== "object" || value === null || (Array.isArray(value) && !allowArray)) {
    const expected = allowArray ? "a JSON object or an array of them" : "a JSON object";
    return { ok: false, response: errorResponse(400, "INVALID_BODY", `request body must be ${expected}`) };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * Measured before JSON.parse, whose recursion a deep enough body would
 * exhaust on some runtimes. The body wraps the payload in one object (an
 * array body in two levels), so it may nest that many levels more than a payload.
 */
function bodyDepthError(text: string, maxPayloadDepth: number, wrappers: number): SpoolError | null {
  const limit = maxPayloadDepth + wrappers;
  if (jsonTextDepth(text, limit) <= limit) return null;
  return new SpoolError(
    "INVALID_PAYLOAD",
    `request body nests arrays and objects more than ${limit} levels deep; a payload may nest at most ${maxPayloadDepth} levels`,
  );
}
