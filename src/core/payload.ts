/**
 * The payload codec. Payloads travel as JSON text; `encodePayload` refuses
 * anything JSON would silently change or drop, so what a handler receives is
 * exactly what was enqueued.
 */
import { SpoolError } from "./errors.ts";

/** Default payload size limit: 1 MiB of UTF-8 JSON. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/**
 * Validates and encodes a payload. Throws SpoolError INVALID_PAYLOAD naming the
 * path of the first value JSON cannot carry (functions, symbols, BigInt, cycles,
 * non-finite numbers, `undefined` at the top level or in an array, class
 * instances other than plain objects and Dates) or the size when over `maxBytes`.
 */
export function encodePayload(payload: unknown, maxBytes: number = DEFAULT_MAX_PAYLOAD_BYTES, label = "payload"): string {
  if (payload === undefined) {
    throw new SpoolError("INVALID_PAYLOAD", `${label} is undefined; pass null or a JSON value`);
  }
  // Most payloads are plain JSON: a check that builds no paths clears them,
  // and only a payload it refuses is walked again to name the bad value.
  if (!isPlainJson(payload, 0)) checkValue(payload, label, new Set());
  const text = JSON.stringify(payload);
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so short texts skip the encode
  const bytes = text.length * 3 <= maxBytes ? text.length : encoder.encode(text).byteLength;
  if (bytes > maxBytes) {
    throw new SpoolError("INVALID_PAYLOAD", `${label} is ${bytes} bytes of JSON, over the limit of ${maxBytes} bytes`);
  }
  return text;
}

export function decodePayload(text: string): unknown {
  return JSON.parse(text);
}

// Deeper than this, a payload is left to checkValue, which finds cycles.
const MAX_FAST_DEPTH = 64;

/** True when JSON carries `value` faithfully; false also when unsure (too deep). */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= MAX_FAST_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!isPlainJson(value[i], depth + 1)) return false;
    }
    return true;
  }
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const child = (value as Record<string, unknown>)[key];
    if (child !== undefined && !isPlainJson(child, depth + 1)) return false;
  }
  return true;
}

function checkValue(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw new SpoolError("INVALID_PAYLOAD", `${path} is ${value}, which JSON cannot carry`);
      }
      return;
    case "undefined":
      throw new SpoolError("INVALID_PAYLOAD", `${path} is undefined, which JSON cannot carry`);
    case "function":
      throw new SpoolError("INVALID_PAYLOAD", `${path} is a function, which JSON cannot carry`);
    case "symbol":
      throw new SpoolError("INVALID_PAYLOAD", `${path} is a symbol, which JSON cannot carry`);
    case "bigint":
      throw new SpoolError("INVALID_PAYLOAD", `${path} is a BigInt, which JSON cannot carry; send it as a string`);
    case "object":
      break;
  }
  if (value === null) return;
  const object = value as object;
  if (ancestors.has(object)) {
    throw new SpoolError("INVALID_PAYLOAD", `${path} is a circular reference`);
  }
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) throw new SpoolError("INVALID_PAYLOAD", `${path} is an invalid Date`);
    return;
  }
  ancestors.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) checkValue(object[i], `${path}[${i}]`, ancestors);
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new SpoolError("INVALID_PAYLOAD", `${path} is a ${kind}, which JSON cannot carry faithfully; pass a plain object`);
    }
    for (const key of Object.keys(object)) {
      const child = (object as Record<string, unknown>)[key];
      // JSON drops undefined properties; that is the one loss users expect
      if (child === undefined) continue;
      checkValue(child, `${path}.${key}`, ancestors);
    }
  }
  ancestors.delete(object);
}
