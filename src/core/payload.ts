/**
 * The payload codec. Payloads travel as JSON text; `encodePayload` refuses
 * anything JSON would silently change or drop (a Date among them: it would
 * arrive as a string), so what a handler receives is exactly what was
 * enqueued. The one loss it lets through is an `undefined` property, which
 * JSON leaves out and everyone expects to be left out.
 */
import { SpoolError } from "./errors.ts";

/** Default payload size limit: 1 MiB of UTF-8 JSON. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Default nesting limit: 64 levels of arrays and objects. Real payloads nest a
 * handful of levels; a payload 10,000 levels deep exhausts the stack of every
 * recursive walk (ours, JSON.stringify, a handler's) and is refused instead.
 */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const encoder = new TextEncoder();

/**
 * Validates and encodes a payload. Throws SpoolError INVALID_PAYLOAD naming the
 * path of the first value JSON cannot carry (functions, symbols, BigInt, cycles,
 * non-finite numbers, `undefined` at the top level or in an array, Dates, class
 * instances other than plain objects), the size when over `maxBytes`,
 * or the depth when arrays and objects nest more than `maxDepth` levels
 * (default 64). Never throws anything but SpoolError for a bad payload.
 */
export function encodePayload(
  payload: unknown,
  maxBytes: number = DEFAULT_MAX_PAYLOAD_BYTES,
  label = "payload",
  maxDepth: number = DEFAULT_MAX_JSON_DEPTH,
): string {
  if (payload === undefined) {
    throw new SpoolError("INVALID_PAYLOAD", `${label} is undefined; pass null or a JSON value`);
  }
  // Most payloads are plain JSON: a check that builds no paths clears them,
  // and only a payload it refuses is walked again to name the bad value.
  if (!isPlainJson(payload, 0, maxDepth)) checkValue(payload, label, new Set(), 0, maxDepth);
  const text = JSON.stringify(payload);
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so short texts skip the encode
  const bytes = text.length * 3 <= maxBytes ? text.length : encoder.encode(text).byteLength;
  if (bytes > maxBytes) {
    throw new SpoolError("INVALID_PAYLOAD", `${label} is ${bytes} bytes of JSON, over the limit of ${maxBytes} bytes`);
  }
  return text;
}

/** Parses stored payload text (written by encodePayload, so valid and bounded). */
export function decodePayload(text: string): unknown {
  return JSON.parse(text);
}

/**
 * The deepest nesting of arrays and objects in JSON text, counted without
 * parsing, so text too deep for a recursive parser is measured safely; stops
 * counting past `limit` (returns limit + 1). Malformed text is left for the
 * parser to refuse.
 */
export function jsonTextDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

/** The INVALID_PAYLOAD error for a value nesting deeper than `maxDepth`; `path` names where it went too deep. */
export function tooDeep(path: string, maxDepth: number): SpoolError {
  return new SpoolError("INVALID_PAYLOAD", `${path} nests arrays and objects more than ${maxDepth} levels deep, over the limit of ${maxDepth}`);
}

// Past the depth limit a payload is left to checkValue, which names where.
/** True when JSON carries `value` faithfully; false also when unsure (too deep). */
function isPlainJson(value: unknown, depth: number, maxDepth: number): boolean {
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
  if (depth >= maxDepth) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!isPlainJson(value[i], depth + 1, maxDepth)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const child = (value as Record<string, unknown>)[key];
    if (child !== undefined && !isPlainJson(child, depth + 1, maxDepth)) return false;
  }
  return true;
}

function checkValue(value: unknown, path: string, ancestors: Set<object>, depth: number, maxDepth: number): void {
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
    // JSON would hand the handler a string where the enqueuer passed a Date
    const instant = Number.isNaN(object.getTime()) ? "an invalid Date" : `the Date ${object.toISOString()}`;
    throw new SpoolError(
      "INVALID_PAYLOAD",
      `${path} is ${instant}, which JSON turns into a string; pass date.toISOString() or date.getTime() and convert it in the handler`,
    );
  }
  if (depth >= maxDepth) throw tooDeep(path, maxDepth);
  ancestors.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) checkValue(object[i], `${path}[${i}]`, ancestors, depth + 1, maxDepth);
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
      checkValue(child, `${path}.${key}`, ancestors, depth + 1, maxDepth);
    }
  }
  ancestors.delete(object);
}
