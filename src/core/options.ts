/**
 * Options users pass to `define` and `enqueue`, validated at the call so a bad
 * value fails where it was written, with a message naming it.
 */
import { type Backoff, type BackoffPolicy, describe, validateBackoff } from "./backoff.ts";
import { SpoolError } from "./errors.ts";
import type { StagedJob } from "./job.ts";

/** Priority levels: higher runs first. One level is 10, so values in between fit. */
export const PRIORITY = { CRITICAL: 20, HIGH: 10, NORMAL: 0, LOW: -10 } as const;

export const DEFAULT_QUEUE = "default";
export const DEFAULT_MAX_ATTEMPTS = 3;
/** How long a finished job keeps its idempotency key reserved: 24 hours. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface EnqueueOptions {
  /** Named queue; workers started with `queues` take only theirs. Default "default". */
  queue?: string;
  /** Integer, higher first. Default: the type's, else PRIORITY.NORMAL. */
  priority?: number;
  /**
   * Attempts before the job is dead. Default: the definition of the type in
   * the worker that claims the job, else 3 (written into the job at claim).
   */
  maxAttempts?: number;
  /** Retry delay policy for this job (functions can only be set on the type). Default: the running worker's type's. */
  backoff?: BackoffPolicy;
  /** Abort and fail an attempt that runs longer. Default: the running worker's type's, else none. */
  timeoutMs?: number;
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Run no earlier than this instant (Date, ISO-8601 string or epoch ms); past means now. */
  runAt?: Date | string | number;
  /** Enqueue at most once per (type, key) while unfinished and for the type's window after. */
  idempotencyKey?: string;
  /**
   * Groups the jobs of one workflow; children inherit their parent's, and a
   * job with `after` joins its dependencies'. Default: none (a plain job).
   */
  workflowId?: string;
  /**
   * Jobs this one waits for: job ids, or jobs staged earlier by the same
   * handler (what `ctx.enqueue` returned). The job is `blocked` until the last
   * of them finishes, then pending (or scheduled, for a future runAt). They
   * must exist and belong to one workflow, which this job joins; otherwise
   * INVALID_OPTIONS and nothing is written.
   */
  after?: ReadonlyArray<string | StagedJob>;
  /** When a dependency ends dead or cancelled: "cancel" this job (default) or "run" it anyway once all have finished. */
  onDependencyFailure?: "cancel" | "run";
  /** A step whose death does not fail its workflow (it ends completed_with_errors). Default false. */
  optional?: boolean;
}

export interface RateLimit {
  /** Jobs that may start in any window. */
  limit: number;
  /** The window, in ms. */
  intervalMs: number;
}

export interface JobTypeOptions {
  queue?: string;
  priority?: number;
  maxAttempts?: number;
  backoff?: Backoff;
  timeoutMs?: number;
  /** Default 24 h. */
  idempotencyWindowMs?: number;
  /** At most this many jobs of the type run at once across every worker. */
  concurrency?: number;
  /** At most `limit` jobs of the type start in any `intervalMs` window across every worker. */
  rateLimit?: RateLimit;
  /** Errors for which this returns true fail the job at once, like PermanentError. */
  isPermanent?: (error: Error) => boolean;
}

export interface ResolvedEnqueue {
  queue: string;
  priority: number;
  maxAttempts: number;
  backoff: BackoffPolicy | null;
  timeoutMs: number | null;
  runAt: number | null;
  idempotencyKey: string | null;
  workflowId: string | null;
  /**
   * The options the caller left unset, which the worker that runs the job
   * takes from its own definition of the type: bit 1 maxAttempts, bit 2
   * timeoutMs (OPTION_FROM_TYPE). Backoff and isPermanent are always read
   * from the running worker's definition unless the job carries a backoff.
   */
  optionsFromType: number;
  /** Validated `after` entries (ids as strings, staged jobs as given), or null. */
  after: Array<string | StagedJob> | null;
  onDependencyFailure: "run" | null;
  optional: boolean;
}

/** Bits of `ResolvedEnqueue.optionsFromType`. */
export const OPTION_FROM_TYPE = { maxAttempts: 1, timeoutMs: 2 } as const;

const ENQUEUE_KEYS = new Set([
  "queue", "priority", "maxAttempts", "backoff", "timeoutMs", "delayMs", "runAt", "idempotencyKey", "workflowId",
  "after", "onDependencyFailure", "optional",
]);

/** Job ids are decimal strings of at most 18 digits. */
export const JOB_ID_PATTERN = /^\d{1,18}$/;

// one job may wait for many, but a batch statement binds them as one JSON list
const MAX_DEPENDENCIES = 1000;
const TYPE_KEYS = new Set([
  "queue", "priority", "maxAttempts", "backoff", "timeoutMs", "idempotencyWindowMs", "concurrency", "rateLimit", "isPermanent",
]);

const NO_OPTIONS = Object.freeze({}) as Record<string, never>;

function fail(message: string): never {
  throw new SpoolError("INVALID_OPTIONS", message);
}

function checkInteger(value: unknown, label: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    fail(`${label} must be an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

// C0 controls (NUL among them), DEL and C1 controls. A NUL in particular is
// stored whole but read back cut at the NUL by SQLite's text functions and some
// drivers, so two distinct keys would read back as one.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The one check for a free-form name (queue, idempotency key, workflow id):
 * 1-200 characters, none of them a control character. Throws INVALID_OPTIONS
 * naming `label` and the value (escaped, so the control character shows).
 */
export function checkName(value: unknown, label: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 200) {
    fail(`${label} must be a non-empty string of at most 200 characters, got ${describe(value)}`);
  }
  const control = CONTROL_CHARACTER.exec(value);
  if (control) {
    const code = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    fail(`${label} must not contain control characters, got ${describe(value)} with ${code} at index ${control.index}`);
  }
  return value;
}

/** Throws INVALID_OPTIONS unless `type` is a usable job type name (its character set leaves out control characters). */
export function checkJobType(type: unknown): string {
  if (typeof type !== "string" || !/^[A-Za-z0-9_.:\-/]{1,200}$/.test(type)) {
    fail(`job type must be 1-200 letters, digits or _.:-/, got ${describe(type)}`);
  }
  return type;
}

function checkKnownKeys(options: object, known: Set<string>, label: string): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) fail(`${label} has unknown option ${JSON.stringify(key)}`);
  }
}

/** Validates `define` options. */
export function validateTypeOptions(options: unknown, type: string): JobTypeOptions {
  if (options === undefined) return {};
  const label = `options of job type ${JSON.stringify(type)}`;
  if (typeof options !== "object" || options === null) fail(`${label} must be an object`);
  checkKnownKeys(options, TYPE_KEYS, label);
  const o = options as Record<string, unknown>;
  if (o.queue !== undefined) checkName(o.queue, `${label}: queue`);
  if (o.priority !== undefined) checkInteger(o.priority, `${label}: priority`, -1_000_000);
  if (o.maxAttempts !== undefined) checkInteger(o.maxAttempts, `${label}: maxAttempts`, 1);
  if (o.backoff !== undefined) validateBackoff(o.backoff, `${label}: backoff`);
  if (o.timeoutMs !== undefined) checkInteger(o.timeoutMs, `${label}: timeoutMs`, 1);
  if (o.idempotencyWindowMs !== undefined) checkInteger(o.idempotencyWindowMs, `${label}: idempotencyWindowMs`, 0);
  if (o.concurrency !== undefined) checkInteger(o.concurrency, `${label}: concurrency`, 1);
  if (o.rateLimit !== undefined) {
    const r = o.rateLimit as Record<string, unknown> | null;
    if (typeof r !== "object" || r === null) fail(`${label}: rateLimit must be { limit, intervalMs }`);
    checkInteger(r.limit, `${label}: rateLimit.limit`, 1);
    checkInteger(r.intervalMs, `${label}: rateLimit.intervalMs`, 1);
  }
  if (o.isPermanent !== undefined && typeof o.isPermanent !== "function") fail(`${label}: isPermanent must be a function`);
  return o as JobTypeOptions;
}

/** Parses a runAt value to epoch ms. */
export function parseRunAt(value: unknown, label = "runAt"): number {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === "number") ms = value;
  else if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}/.test(value)) ms = Date.parse(value);
  else ms = Number.NaN;
  if (!Number.isFinite(ms)) fail(`${label} must be a Date, an ISO-8601 string or epoch milliseconds, got ${describe(value)}`);
  return ms;
}

/**
 * Validates enqueue options and merges them over the type's defaults.
 * `runAt` comes back absolute (epoch ms) or null for "now".
 */
export function resolveEnqueueOptions(
  options: unknown,
  typeOptions: JobTypeOptions | undefined,
  now: number,
): ResolvedEnqueue {
  const o = (options ?? NO_OPTIONS) as Record<string, unknown>;
  if (typeof o !== "object" || o === null || Array.isArray(o)) fail(`enqueue options must be an object, got ${describe(options)}`);
  if (o !== NO_OPTIONS) checkKnownKeys(o, ENQUEUE_KEYS, "enqueue options");
  const t = typeOptions ?? NO_OPTIONS;
  let runAt: number | null = null;
  if (o.delayMs !== undefined && o.runAt !== undefined) fail("enqueue options: give delayMs or runAt, not both");
  if (o.delayMs !== undefined) {
    if (typeof o.delayMs !== "number" || !Number.isFinite(o.delayMs) || o.delayMs < 0) {
      fail(`delayMs must be a non-negative number of milliseconds, got ${describe(o.delayMs)}`);
    }
    runAt = o.delayMs > 0 ? now + Math.round(o.delayMs) : null;
  } else if (o.runAt !== undefined) {
    const at = parseRunAt(o.runAt);
    runAt = at > now ? at : null;
  }
  let backoff: BackoffPolicy | null = null;
  if (o.backoff !== undefined) {
    if (typeof o.backoff === "function") {
      fail("enqueue options: backoff functions cannot be stored with a job; define the function on the job type");
    }
    backoff = validateBackoff(o.backoff, "backoff") as BackoffPolicy;
  }
  return {
    queue: o.queue !== undefined ? checkName(o.queue, "queue") : t.queue ?? DEFAULT_QUEUE,
    priority: o.priority !== undefined ? checkInteger(o.priority, "priority", -1_000_000) : t.priority ?? PRIORITY.NORMAL,
    maxAttempts: o.maxAttempts !== undefined ? checkInteger(o.maxAttempts, "maxAttempts", 1) : t.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    backoff,
    timeoutMs: o.timeoutMs !== undefined ? checkInteger(o.timeoutMs, "timeoutMs", 1) : t.timeoutMs ?? null,
    runAt,
    idempotencyKey: o.idempotencyKey !== undefined ? checkName(o.idempotencyKey, "idempotencyKey") : null,
    workflowId: o.workflowId !== undefined ? checkName(o.workflowId, "workflowId") : null,
    optionsFromType:
      (o.maxAttempts === undefined ? OPTION_FROM_TYPE.maxAttempts : 0) | (o.timeoutMs === undefined ? OPTION_FROM_TYPE.timeoutMs : 0),
    after: o.after !== undefined ? checkAfter(o.after) : null,
    onDependencyFailure: checkDependencyFailure(o.onDependencyFailure),
    optional: o.optional !== undefined ? checkBoolean(o.optional, "optional") : false,
  };
}

function checkAfter(value: unknown): Array<string | StagedJob> {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DEPENDENCIES) {
    fail(`after must be a non-empty array of at most ${MAX_DEPENDENCIES} job ids or staged jobs, got ${describe(value)}`);
  }
  return value.map((entry, index) => {
    if (typeof entry === "string" && JOB_ID_PATTERN.test(entry)) return entry;
    if (typeof entry === "object" && entry !== null && typeof (entry as StagedJob).stage === "number") return entry as StagedJob;
    return fail(`after[${index}] must be a job id (a decimal string) or a job staged by ctx.enqueue, got ${describe(entry)}`);
  });
}

function checkDependencyFailure(value: unknown): "run" | null {
  if (value === undefined || value === "cancel") return null;
  if (value === "run") return "run";
  return fail(`onDependencyFailure must be "cancel" or "run", got ${describe(value)}`);
}

function checkBoolean(value: unknown, label: string): boolean {
  if (typeof value !== "boolean") fail(`${label} must be true or false, got ${describe(value)}`);
  return value;
}
