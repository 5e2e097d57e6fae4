/**
 * The job as users see it, and the row shape the store writes for a new job.
 */
import type { JobStatus } from "./states.ts";

export type AttemptOutcome = "completed" | "failed" | "timed_out" | "lease_expired";

/** One attempt in a job's history. */
export interface Attempt {
  attempt: number;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  outcome: AttemptOutcome;
  error: string | null;
  stack: string | null;
  workerId: string | null;
  /** What the handler recorded with `ctx.warn` during this attempt. */
  warnings: string[];
}

/** A job as returned by `getJob`, `listJobs` and the HTTP API. Times are epoch ms. */
export interface Job<P = unknown> {
  id: string;
  type: string;
  payload: P;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  priority: number;
  queue: string;
  runAt: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  lastError: string | null;
  idempotencyKey: string | null;
  workflowId: string | null;
  parentId: string | null;
  /** For jobs a cron schedule enqueued: the schedule's name; null otherwise. */
  scheduleName: string | null;
  /**
   * For jobs a cron schedule enqueued: the fire time (epoch ms, a whole second)
   * of the tick this job is for, also when it was enqueued late by catch-up.
   * Handlers read it as `ctx.job.scheduledFor`; the payload is the schedule's
   * own, unchanged. Null for other jobs.
   */
  scheduledFor: number | null;
  timeoutMs: number | null;
  workerId: string | null;
  /** The handler's return value (JSON), once completed; null before and for handlers that return nothing. */
  result: unknown;
  /** Every `ctx.warn` message of every attempt, oldest first. */
  warnings: string[];
  /** Enqueued with `optional: true`: its death does not fail its workflow. */
  optional: boolean;
  /** What happens when an `after` dependency ends dead or cancelled: "cancel" (the default) or "run". */
  onDependencyFailure: "cancel" | "run";
  history: Attempt[];
}

/** A job just claimed by a worker: the job plus the lease it runs under. */
export interface ClaimedJob extends Job {
  leaseToken: string;
  leaseExpiresAt: number;
  /** Stored per-job backoff policy, JSON, or null for the type's. */
  backoffJson: string | null;
  /** Some job waited for this one when it was claimed: its outcome's batch settles dependents. */
  hasDependents: boolean;
}

/**
 * A job staged by `ctx.enqueue`, as the handler gets it back: it can be named
 * in `after` of a later `ctx.enqueue` of the same attempt, before it has an id.
 */
export interface StagedJob {
  readonly type: string;
  /** Its position among the jobs this attempt staged, from 0. */
  readonly stage: number;
}

/** One `after` dependency of a new job: a job id, or a job staged earlier by the same attempt. */
export type Dependency = { id: string } | { stage: number };

/** Everything the store needs to insert one job. */
export interface NewJobRow {
  type: string;
  queue: string;
  payload: string;
  /** blocked when it has `after` dependencies, else pending, or scheduled for a future runAt. */
  status: "pending" | "scheduled" | "blocked";
  priority: number;
  maxAttempts: number;
  runAt: number;
  createdAt: number;
  timeoutMs: number | null;
  backoff: string | null;
  idempotencyKey: string | null;
  idempotencyWindowMs: number;
  workflowId: string | null;
  parentId: string | null;
  scheduleName: string | null;
  scheduledFor: number | null;
  /**
   * Options the enqueuer left to the running worker's definition of the type
   * (bits of OPTION_FROM_TYPE in options.ts); the stored maxAttempts and
   * timeoutMs are the enqueuer's defaults until a claim replaces them.
   * Default 0: the stored values hold.
   */
  optionsFromType?: number;
  /** null for a job without `after`. */
  after: Dependency[] | null;
  optional: boolean;
  onDependencyFailure: "run" | null;
  /** For a job staged by a handler: its position among the attempt's staged jobs. */
  stage: number | null;
}

/**
 * New jobs that are alike in every value but their payload, in enqueue order:
 * `row` is the first of them and `payloads` holds every payload, its own first.
 * Batches of alike jobs are the common case, and one row object per run
 * instead of per job is most of enqueueMany's saving in allocation.
 */
export interface NewJobRun {
  row: NewJobRow;
  payloads: string[];
}
