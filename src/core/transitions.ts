/**
 * Transition constructors: the one place that decides what a finished attempt,
 * a lost lease or a dependency means for a job. Each is pure, checks its edge
 * against the state table (states.ts; a forbidden edge throws
 * ILLEGAL_TRANSITION) and returns an Outcome carrying its reason. The executor
 * and the reaper build outcomes only through these; the store writes what an
 * Outcome says and decides nothing.
 */
import type { AttemptOutcome, NewJobRow } from "./job.ts";
import { type JobStatus, type TransitionReason, assertTransition } from "./states.ts";

/** The job an outcome is for, as its claim left it. */
export interface OutcomeSubject {
  id: string;
  status: JobStatus;
  leaseToken: string;
  /** Some job waits for this one (as its claim saw it). */
  hasDependents?: boolean;
}

/** What one attempt came to, as the store writes it. */
export interface Outcome {
  id: string;
  /** The lease the attempt ran under: the write happens only while the job still holds it. */
  token: string;
  finishedAt: number;
  /** Why: the state table's edge this outcome takes. */
  reason: TransitionReason;
  /** completed | scheduled (retry) | dead | cancelled (stopped on request) | pending (released at shutdown) */
  status: "completed" | "scheduled" | "dead" | "cancelled" | "pending";
  runAt: number | null;
  /** Recorded in the history; null for a release, which is not an attempt. */
  outcome: AttemptOutcome | null;
  error: string | null;
  stack: string | null;
  /** Only for the reaper: write only if the lease is still expired at this instant. */
  leaseExpiredBy?: number;
  /** Jobs the handler staged; written only with a completion. */
  children?: NewJobRow[];
  /** The handler's return value as JSON, for a completion; null when it returned nothing. */
  result?: string | null;
  /** What the handler recorded with ctx.warn during the attempt. */
  warnings?: string[];
  /** Some job waited for this one when it was claimed: the write settles its dependents in the same batch. */
  hasDependents?: boolean;
}

/** What an attempt that ended in an error carried. */
export interface AttemptError {
  message: string;
  stack: string | null;
  /** failed (it threw) or timed_out. */
  outcome: "failed" | "timed_out";
}

function outcome(
  job: OutcomeSubject,
  now: number,
  reason: TransitionReason,
  status: Outcome["status"],
  attempt: AttemptOutcome | null,
  error: string | null,
  stack: string | null,
  runAt: number | null,
  children: NewJobRow[] | undefined,
  result: string | null,
  warnings: string[] | null | undefined,
): Outcome {
  assertTransition(job.status, status, reason);
  // one object shape for every outcome, and no options object per call: a
  // busy worker builds one per job, and allocations show in its profile
  return {
    id: job.id,
    token: job.leaseToken,
    finishedAt: now,
    reason,
    status,
    runAt,
    outcome: attempt,
    error,
    stack,
    children,
    result,
    warnings: warnings ?? undefined,
    hasDependents: job.hasDependents === true,
  };
}

/** running -> completed, with the handler's result (JSON, or null), the jobs it staged and its warnings. */
export function complete(job: OutcomeSubject, now: number, result: string | null = null, children?: NewJobRow[], warnings?: string[] | null): Outcome {
  return outcome(job, now, "complete", "completed", "completed", null, null, null, children, result, warnings);
}

/** running -> scheduled: the attempt failed and another runs at `runAt`. */
export function retryLater(job: OutcomeSubject, now: number, runAt: number, error: AttemptError, warnings?: string[] | null): Outcome {
  return outcome(job, now, "retry", "scheduled", error.outcome, error.message, error.stack, runAt, undefined, null, warnings);
}

/** running -> dead: a permanent failure, or the last attempt failed. Nothing it staged is written. */
export function dead(job: OutcomeSubject, now: number, error: AttemptError, warnings?: string[] | null): Outcome {
  return outcome(job, now, "fail", "dead", error.outcome, error.message, error.stack, null, undefined, null, warnings);
}

/** running -> pending at shutdown: the attempt is handed back and not spent. */
export function release(job: OutcomeSubject, now: number): Outcome {
  return outcome(job, now, "release", "pending", null, null, null, null, undefined, null, undefined);
}

/** running -> cancelled: an operator asked, and the attempt stopped without completing. */
export function cancel(job: OutcomeSubject, now: number, error: { message: string; stack: string | null }, warnings?: string[] | null): Outcome {
  return outcome(job, now, "cancel", "cancelled", "failed", error.message, error.stack, null, undefined, null, warnings);
}

/**
 * running -> scheduled (at `retryAt`) or dead (`retryAt` null: no attempts
 * left): the lease ran out. An attempt an operator had asked to cancel ends
 * cancelled instead. Written only while the lease is still expired at `now`,
 * so a worker that renewed in time keeps its job.
 */
export function leaseExpired(job: OutcomeSubject, now: number, retryAt: number | null, message: string, cancelRequested = false): Outcome {
  const status = cancelRequested ? "cancelled" : retryAt === null ? "dead" : "scheduled";
  const reason = cancelRequested ? "cancel" : "lease_expired";
  const result = outcome(job, now, reason, status, "lease_expired", message, null, cancelRequested ? null : retryAt, undefined, null, undefined);
  result.leaseExpiredBy = now;
  return result;
}

/** What a blocked job becomes when its last dependency finished. */
export interface Unblocked {
  reason: "unblock";
  status: "pending" | "scheduled";
}

/** blocked -> pending, or scheduled when its own runAt is still ahead. */
export function unblock(runAt: number, now: number): Unblocked {
  const status = runAt > now ? "scheduled" : "pending";
  assertTransition("blocked", status, "unblock");
  return { reason: "unblock", status };
}

/** blocked -> cancelled: a dependency ended dead or cancelled, and the job was not enqueued with onDependencyFailure "run". */
export function dependencyFailed(dependency: { id: string; type: string; status: "dead" | "cancelled" }): {
  reason: "dependency_failed";
  status: "cancelled";
  error: string;
} {
  assertTransition("blocked", "cancelled", "dependency_failed");
  return { reason: "dependency_failed", status: "cancelled", error: dependencyFailureMessage(dependency) };
}

/** cancelled -> blocked: the dependency whose failure cancelled the job is being retried. */
export function block(): { reason: "block"; status: "blocked" } {
  assertTransition("cancelled", "blocked", "block");
  return { reason: "block", status: "blocked" };
}

/** The error a job cancelled by a failed dependency records (the store writes the same words). */
export function dependencyFailureMessage(dependency: { id: string; type: string; status: string }): string {
  return `cancelled: its dependency job ${dependency.id} (${dependency.type}) ended ${dependency.status}`;
}
