/**
 * The columns every job query returns, and their mapping to the public Job.
 */
import type { Row } from "./connection.ts";
import type { Attempt, ClaimedJob, Job, NewJobRow } from "../core/job.ts";
import { decodePayload } from "../core/payload.ts";
import type { JobStatus } from "../core/states.ts";

export const JOB_COLUMNS = `id, type, queue, payload, status, priority, attempts, max_attempts, run_at, created_at,
  started_at, finished_at, lease_token, lease_expires_at, worker_id, timeout_ms, backoff, last_error, history,
  idempotency_key, workflow_id, parent_id, schedule_name, scheduled_for, result, warnings, optional, on_dependency_failure, has_dependents`;

const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const stringOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function rowToJob(row: Row): Job {
  return jobOf(row, row.status as JobStatus, numberOrNull(row.started_at), numberOrNull(row.finished_at), stringOrNull(row.worker_id));
}

function jobOf(row: Row, status: JobStatus, startedAt: number | null, finishedAt: number | null, workerId: string | null): Job {
  const warnings = row.warnings ? (JSON.parse(row.warnings as string) as StoredWarning[]) : [];
  return {
    id: String(row.id),
    type: row.type as string,
    payload: decodePayload(row.payload as string),
    status,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    priority: Number(row.priority),
    queue: row.queue as string,
    runAt: Number(row.run_at),
    createdAt: Number(row.created_at),
    startedAt,
    finishedAt,
    lastError: stringOrNull(row.last_error),
    idempotencyKey: stringOrNull(row.idempotency_key),
    workflowId: stringOrNull(row.workflow_id),
    parentId: stringOrNull(row.parent_id),
    scheduleName: stringOrNull(row.schedule_name),
    scheduledFor: numberOrNull(row.scheduled_for),
    timeoutMs: numberOrNull(row.timeout_ms),
    workerId,
    result: row.result === null || row.result === undefined ? null : decodePayload(row.result as string),
    warnings: warnings.map((w) => w.message),
    optional: row.optional === 1 || row.optional === 1n,
    onDependencyFailure: row.on_dependency_failure === "run" ? "run" : "cancel",
    history: historyOf(row, status, warnings),
  };
}

interface StoredWarning {
  attempt: number;
  message: string;
}

/** The stored attempts, plus the completed one the row itself records (see complete-jobs.ts). */
function historyOf(row: Row, status: JobStatus, warnings: StoredWarning[]): Attempt[] {
  const history = JSON.parse((row.history as string) ?? "[]") as Attempt[];
  for (const attempt of history) attempt.warnings = warnings.filter((w) => w.attempt === attempt.attempt).map((w) => w.message);
  if (status === "completed") {
    const startedAt = Number(row.started_at);
    const finishedAt = Number(row.finished_at);
    history.push({
      attempt: Number(row.attempts),
      startedAt,
      finishedAt,
      durationMs: finishedAt - startedAt,
      outcome: "completed",
      error: null,
      stack: null,
      workerId: stringOrNull(row.worker_id),
      warnings: warnings.filter((w) => w.attempt === Number(row.attempts)).map((w) => w.message),
    });
  }
  return history;
}

export function rowToClaimedJob(row: Row): ClaimedJob {
  const job = rowToJob(row) as ClaimedJob;
  job.leaseToken = row.lease_token as string;
  job.leaseExpiresAt = Number(row.lease_expires_at);
  job.backoffJson = stringOrNull(row.backoff);
  job.hasDependents = row.has_dependents != null;
  return job;
}

/**
 * What a claim returns. The columns the claim itself just wrote (status,
 * start, lease, worker) are known to the caller and left out: every returned
 * column costs on each of the hottest statement's rows.
 */
export const CLAIMED_COLUMNS = `id, type, queue, payload, priority, attempts, max_attempts, run_at, created_at,
  timeout_ms, backoff, last_error, history, idempotency_key, workflow_id, parent_id, schedule_name, scheduled_for, has_dependents`;

/** A row of CLAIMED_COLUMNS plus the lease the claim wrote. */
export function claimedRowToJob(row: Row, lease: { token: string; expiresAt: number; startedAt: number; workerId: string }): ClaimedJob {
  const job = jobOf(row, "running", lease.startedAt, null, lease.workerId) as ClaimedJob;
  job.leaseToken = lease.token;
  job.leaseExpiresAt = lease.expiresAt;
  job.backoffJson = stringOrNull(row.backoff);
  job.hasDependents = row.has_dependents != null;
  return job;
}

/** A new job as one JSON-able array in INSERT_COLUMNS order, for the statements that read rows with `->>`. */
export function jobRowToTuple(row: NewJobRow): unknown[] {
  const values: unknown[] = [];
  pushJobRowValues(values, row);
  return values;
}

/**
 * A new job as INSERT_COLUMNS plus EXTRA_COLUMNS (insert-jobs.ts): the
 * workflow columns most jobs leave empty, so the bulk statements do not bind them.
 */
export function jobRowToExtendedTuple(row: NewJobRow): unknown[] {
  const values = jobRowToTuple(row);
  values.push(row.optional ? 1 : null, row.onDependencyFailure, row.stage);
  return values;
}

/** True for a job that needs the extended columns or dependency rows. */
export function isExtendedRow(row: NewJobRow): boolean {
  return row.after !== null || row.optional || row.onDependencyFailure !== null || row.stage !== null;
}

/** Appends a new job's values for one row of INSERT_COLUMNS (insert-jobs.ts), in order. */
export function pushJobRowValues(values: unknown[], row: NewJobRow): void {
  values.push(
    row.type,
    row.queue,
    row.payload,
    row.status,
    row.priority,
    row.priority,
    row.maxAttempts,
    row.runAt,
    row.createdAt,
    row.timeoutMs,
    row.backoff,
    row.idempotencyKey,
    row.idempotencyWindowMs,
    row.idempotencyKey === null ? null : 1,
    row.workflowId,
    row.parentId === null ? null : Number(row.parentId),
    row.scheduleName,
    row.scheduledFor,
    row.optionsFromType ?? 0,
  );
}
