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
  history: Attempt[];
}

/** A job just claimed by a worker: the job plus the lease it runs under. */
export interface ClaimedJob extends Job {
  leaseToken: string;
  leaseExpiresAt: number;
  /** Stored per-job backoff policy, JSON, or null for the type's. */
  backoffJson: string | null;
}

/** Everything the store needs to insert one job. */
export interface NewJobRow {
  type: string;
  queue: string;
  payload: string;
  status: "pending" | "scheduled";
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
