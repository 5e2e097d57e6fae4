/**
 * How long a failed job waits before its next attempt.
 */
import { SpoolError } from "./errors.ts";

export interface BackoffPolicy {
  type: "exponential" | "fixed" | "linear";
  /** First delay, in ms. Default 1000. */
  baseMs?: number;
  /** Upper bound on any delay, in ms. Default one hour. */
  maxMs?: number;
  /** Full jitter: pick uniformly in [0, delay]. Default true. */
  jitter?: boolean;
}

/** A policy, or a function of the attempt that just failed (1-based) and its error. */
export type Backoff = BackoffPolicy | ((attempt: number, error: Error) => number);

export const DEFAULT_BACKOFF: Required<BackoffPolicy> = {
  type: "exponential",
  baseMs: 1000,
  maxMs: 60 * 60 * 1000,
  jitter: true,
};

/** Milliseconds to wait after failed attempt number `attempt` (1-based). */
export function backoffDelay(backoff: Backoff, attempt: number, error: Error, random: () => number = Math.random): number {
  if (typeof backoff === "function") {
    const ms = backoff(attempt, error);
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  }
  const policy = { ...DEFAULT_BACKOFF, ...backoff };
  let delay: number;
  switch (policy.type) {
    case "fixed":
      delay = policy.baseMs;
      break;
    case "linear":
      delay = policy.baseMs * attempt;
      break;
    case "exponential":
      // 2^30 is already ~34 years of base 1s; clamping the exponent keeps it finite
      delay = policy.baseMs * 2 ** Math.min(attempt - 1, 30);
      break;
  }
  delay = Math.min(delay, policy.maxMs);
  return Math.round(policy.jitter ? random() * delay : delay);
}

/**
 * The delay before retrying a job: its own stored policy (JSON) if it has
 * one, else its type's, else the default. A backoff function that throws
 * falls back to the default policy; `onFunctionError` hears about it.
 */
export function retryDelay(
  stored: string | null,
  typeBackoff: Backoff | undefined,
  attempt: number,
  error: Error,
  random?: () => number,
  onFunctionError?: (thrown: unknown) => void,
): number {
  const backoff: Backoff = stored ? (JSON.parse(stored) as Backoff) : typeBackoff ?? DEFAULT_BACKOFF;
  try {
    return backoffDelay(backoff, attempt, error, random);
  } catch (thrown) {
    onFunctionError?.(thrown);
    return backoffDelay(DEFAULT_BACKOFF, attempt, error, random);
  }
}

/** Throws INVALID_OPTIONS naming the field when `value` is not a usable backoff. */
export function validateBackoff(value: unknown, label: string): Backoff {
  if (typeof value === "function") return value as Backoff;
  if (typeof value !== "object" || value === null) {
    throw new SpoolError("INVALID_OPTIONS", `${label} must be a backoff policy object or a function, got ${describe(value)}`);
  }
  const policy = value as Record<string, unknown>;
  if (!["exponential", "fixed", "linear"].includes(policy.type as string)) {
    throw new SpoolError("INVALID_OPTIONS", `${label}.type must be "exponential", "fixed" or "linear", got ${describe(policy.type)}`);
  }
  for (const key of ["baseMs", "maxMs"] as const) {
    const v = policy[key];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v >= 0)) {
      throw new SpoolError("INVALID_OPTIONS", `${label}.${key} must be a non-negative number, got ${describe(v)}`);
    }
  }
  if (policy.jitter !== undefined && typeof policy.jitter !== "boolean") {
    throw new SpoolError("INVALID_OPTIONS", `${label}.jitter must be a boolean, got ${describe(policy.jitter)}`);
  }
  return policy as unknown as BackoffPolicy;
}

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
