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
 * What a claim returns, in this order. The columns the claim itself just
 * wrote (status, start, lease, worker) are known to the caller and left out:
 * every returned column costs on each of the hottest statement's rows.
 */
export const CLAIMED_COLUMN_NAMES = [
  "id", "type", "queue", "payload", "priority", "attempts", "max_attempts", "run_at", "created_at", "timeout_ms",
  "backoff", "last_error", "history", "idempotency_key", "workflow_id", "parent_id", "schedule_name", "scheduled_for",
  "has_dependents", "effective_priority",
] as const;

// positions in CLAIMED_COLUMN_NAMES, named once so the decoder below reads by index
const at = Object.fromEntries(CLAIMED_COLUMN_NAMES.map((name, i) => [name, i])) as Record<(typeof CLAIMED_COLUMN_NAMES)[number], number>;
const ID = at.id, TYPE = at.type, QUEUE = at.queue, PAYLOAD = at.payload, PRIORITY = at.priority, ATTEMPTS = at.attempts;
const MAX_ATTEMPTS = at.max_attempts, RUN_AT = at.run_at, CREATED_AT = at.created_at, TIMEOUT_MS = at.timeout_ms;
const BACKOFF = at.backoff, LAST_ERROR = at.last_error, HISTORY = at.history, IDEMPOTENCY_KEY = at.idempotency_key;
const WORKFLOW_ID = at.workflow_id, PARENT_ID = at.parent_id, SCHEDULE_NAME = at.schedule_name, SCHEDULED_FOR = at.scheduled_for;
const HAS_DEPENDENTS = at.has_dependents, EFFECTIVE_PRIORITY = at.effective_priority;

/** The values of one claimed row, in CLAIMED_COLUMN_NAMES order, as the claim returns them (one JSON array). */
export type ClaimedValues = unknown[];

/** Claimed rows in the order their jobs should start: priority, then run time, then id. */
export function byStartOrder(a: ClaimedValues, b: ClaimedValues): number {
  return (
    (b[EFFECTIVE_PRIORITY] as number) - (a[EFFECTIVE_PRIORITY] as number) ||
    (a[RUN_AT] as number) - (b[RUN_AT] as number) ||
    (a[ID] as number) - (b[ID] as number)
  );
}

/**
 * A claimed row plus the lease the claim wrote. Read by position, not
 * through a row object: the claim is the hottest read, and building a row
 * per job showed in profiles. A claimed job has no result or warnings yet.
 */
export function claimedValuesToJob(values: ClaimedValues, lease: { token: string; expiresAt: number; startedAt: number; workerId: string }): ClaimedJob {
  const history = values[HISTORY] as string;
  return {
    id: String(values[ID]),
    type: values[TYPE] as string,
    payload: decodePayload(values[PAYLOAD] as string),
    status: "running",
    attempts: values[ATTEMPTS] as number,
    maxAttempts: values[MAX_ATTEMPTS] as number,
    priority: values[PRIORITY] as number,
    queue: values[QUEUE] as string,
    runAt: values[RUN_AT] as number,
    createdAt: values[CREATED_AT] as number,
    startedAt: lease.startedAt,
    finishedAt: null,
    lastError: (values[LAST_ERROR] as string | null) ?? null,
    idempotencyKey: (values[IDEMPOTENCY_KEY] as string | null) ?? null,
    workflowId: (values[WORKFLOW_ID] as string | null) ?? null,
    parentId: stringOrNull(values[PARENT_ID]),
    scheduleName: (values[SCHEDULE_NAME] as string | null) ?? null,
    scheduledFor: (values[SCHEDULED_FOR] as number | null) ?? null,
    timeoutMs: (values[TIMEOUT_MS] as number | null) ?? null,
    workerId: lease.workerId,
    result: null,
    warnings: [],
    optional: false,
    onDependencyFailure: "cancel",
    history: history === "[]" || history == null ? [] : historyOf({ history }, "running", []),
    leaseToken: lease.token,
    leaseExpiresAt: lease.expiresAt,
    backoffJson: (values[BACKOFF] as string | null) ?? null,
    hasDependents: values[HAS_DEPENDENTS] != null,
  };
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
