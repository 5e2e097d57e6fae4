/**
 * What a drain (`Spool.drain`, `POST /drain`, a handler's `scheduled`) is
 * asked to do, and the check of it, shared by the library face and the HTTP
 * handler, which checks its defaults when it is created.
 */
import { DEFAULT_CONCURRENCY } from "./defaults.ts";
import { SpoolError } from "./errors.ts";
import { checkName } from "./options.ts";

/** What `spool.drain` should do; see there. */
export interface DrainOptions {
  /** The drain's whole time in ms, writes included: an integer from 1 to 86 400 000 (a day). Required. */
  budgetMs: number;
  /** Attempts to start at most. Default: no cap. */
  maxJobs?: number;
  /** Take only these queues. Default: every queue. */
  queues?: string[];
  /** Attempts running at once at most. Default 10. */
  concurrency?: number;
  /** Ends the drain early: no more claims, running jobs are handed back, and it resolves with what it did. */
  signal?: AbortSignal;
}

/** The longest drain budget accepted: a day. */
export const MAX_DRAIN_BUDGET_MS = 24 * 60 * 60 * 1000;

/** Throws INVALID_OPTIONS naming the first bad drain option (see `Spool.drain`). */
export function checkDrainOptions(options: DrainOptions): void {
  if (typeof options !== "object" || options === null) throw new SpoolError("INVALID_OPTIONS", `drain options must be an object, got ${JSON.stringify(options)}`);
  const { budgetMs, maxJobs, queues, concurrency = DEFAULT_CONCURRENCY, signal } = options;
  if (!Number.isSafeInteger(budgetMs) || budgetMs < 1 || budgetMs > MAX_DRAIN_BUDGET_MS) {
    throw new SpoolError("INVALID_OPTIONS", `budgetMs must be an integer from 1 to ${MAX_DRAIN_BUDGET_MS}, got ${JSON.stringify(budgetMs)}`);
  }
  if (maxJobs !== undefined && !(Number.isSafeInteger(maxJobs) && maxJobs >= 0)) {
    throw new SpoolError("INVALID_OPTIONS", `maxJobs must be a non-negative integer, got ${JSON.stringify(maxJobs)}`);
  }
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new SpoolError("INVALID_OPTIONS", `concurrency must be a positive integer, got ${JSON.stringify(concurrency)}`);
  }
  if (queues !== undefined && (!Array.isArray(queues) || queues.length === 0)) {
    throw new SpoolError("INVALID_OPTIONS", "queues must be a non-empty array of queue names");
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new SpoolError("INVALID_OPTIONS", "signal must be an AbortSignal");
  }
  for (const queue of queues ?? []) checkName(queue, "queue name");
}
