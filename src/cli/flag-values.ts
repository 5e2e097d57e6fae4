/**
 * Reading flag and argument values: durations (`500ms`, `10s`, `7d`,
 * `1h30m`), priorities by name or number, integers, instants and JSON. A
 * value that does not parse is a UsageError naming the flag and the value.
 */
import { PRIORITY } from "../core/options.ts";
import { UsageError } from "./args.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** `500ms`, `10s`, `5m`, `2h`, `7d`, `1w`, or several run together (`1h30m`), in whole milliseconds. */
export function parseDuration(text: string, label: string): number {
  if (!DURATION.test(text)) {
    throw new UsageError(`${label} ${JSON.stringify(text)} is not a duration; write it like 500ms, 10s, 5m, 2h or 7d`);
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  if (!Number.isSafeInteger(Math.round(ms))) throw new UsageError(`${label} ${JSON.stringify(text)} is too long`);
  return Math.round(ms);
}

/** A decimal integer, signed. */
export function parseInteger(text: string, label: string): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`${label} ${JSON.stringify(text)} is not an integer`);
  return value;
}

/** `critical`, `high`, `normal`, `low` (PRIORITY's levels, any case) or an integer. */
export function parsePriority(text: string, label: string): number {
  const named = (PRIORITY as Record<string, number>)[text.toUpperCase()];
  if (named !== undefined) return named;
  if (/^-?\d+$/.test(text)) return parseInteger(text, label);
  throw new UsageError(`${label} ${JSON.stringify(text)} is not a priority; use critical, high, normal, low or an integer`);
}

/** An ISO-8601 date or date-time (`2030-01-01`, `2030-01-01T09:00:00Z`), as epoch ms. */
export function parseInstant(text: string, label: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`${label} ${JSON.stringify(text)} is not an ISO-8601 date or time, like 2030-01-01T09:00:00Z`);
  return ms;
}

/** A JSON text. */
export function parseJsonArgument(text: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${label} is not valid JSON (${(error as Error).message}): ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`);
  }
}
