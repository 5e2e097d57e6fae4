/**
 * Writing outcomes. Every outcome of a batch goes in one UPDATE ... FROM
 * json_each, conditional on the job still running under the lease token the
 * attempt was given: a worker that lost its lease can never overwrite newer
 * state. Children staged by completed handlers are inserted in the same
 * transaction, on the same condition.
 */
import type { QueryResult, SqlStatement } from "./file-connection.ts";
import type { AttemptOutcome, NewJobRow } from "../core/job.ts";
import type { Database } from "./database.ts";
import { childInsertStatements } from "./insert-jobs.ts";

/** What one attempt came to, as the store writes it. */
export interface Outcome {
  id: string;
  token: string;
  finishedAt: number;
  /** completed | scheduled (retry) | dead | cancelled (stopped on request) | pending (released at shutdown) */
  status: "completed" | "scheduled" | "dead" | "cancelled" | "pending";
  runAt: number | null;
  /** Recorded in the history; null for a release, which is not an attempt. */
  outcome: AttemptOutcome | null;
  error: string | null;
  stack: string | null;
  /** Only for the reaper: write only if the lease is still expired at this instant. */
  leaseExpiredBy?: number;
  children?: NewJobRow[];
}

// A completed attempt is not appended to the history: the row's own
// started_at, finished_at and worker_id are that attempt, and reading a job
// adds it back (job-row.ts). Rewriting the history JSON on every success cost
// a third of the completion statement.
// NOT INDEXED: drive the join from the outcomes to rowid lookups, never from an
// index scan over every running job
const WRITE_OUTCOMES = `
UPDATE spool_jobs NOT INDEXED SET
  status = o.value->>3,
  attempts = attempts - CASE WHEN o.value->>3 = 'pending' THEN 1 ELSE 0 END,
  run_at = coalesce(o.value->>4, run_at),
  finished_at = CASE WHEN (o.value->>3 = 'completed' OR o.value->>3 = 'dead' OR o.value->>3 = 'cancelled') THEN o.value->>2 ELSE NULL END,
  lease_expires_at = NULL,
  lease_token = CASE WHEN o.value->>3 = 'pending' THEN NULL ELSE lease_token END,
  effective_priority = priority,
  last_error = coalesce(o.value->>6, last_error),
  history = CASE WHEN o.value->>5 IS NULL OR o.value->>5 = 'completed' THEN history ELSE json_insert(history, '$[#]', json_object(
    'attempt', attempts, 'startedAt', started_at, 'finishedAt', o.value->>2,
    'durationMs', (o.value->>2) - started_at, 'outcome', o.value->>5,
    'error', o.value->>6, 'stack', o.value->>7, 'workerId', worker_id)) END,
  idempotency_until = CASE WHEN idempotency_held = 1 AND (o.value->>3 = 'completed' OR o.value->>3 = 'dead' OR o.value->>3 = 'cancelled')
    THEN (o.value->>2) + idempotency_window_ms ELSE NULL END
FROM json_each(:outcomes) AS o
WHERE spool_jobs.id = o.value->>0 AND spool_jobs.lease_token = o.value->>1 AND spool_jobs.status = 'running'
  AND (o.value->>8 IS NULL OR spool_jobs.lease_expires_at <= o.value->>8)
RETURNING spool_jobs.id`;

/** Writes the outcomes in one transaction; returns the ids whose lease still held (the others were discarded). */
export async function completeJobs(db: Database, outcomes: Outcome[], now: number): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  const results = await db.batch(outcomeStatements(outcomes, now), "write");
  return writtenIds(results[results.length - 1]!);
}

/** The statements that write `outcomes`; the last one's result says which were written (see `writtenIds`). */
export function outcomeStatements(outcomes: Outcome[], now: number): SqlStatement[] {
  const statements: SqlStatement[] = [];
  for (const o of outcomes) {
    if (o.status === "completed" && o.children && o.children.length > 0) {
      statements.push(...childInsertStatements(o.id, o.token, o.children, now));
    }
  }
  const tuples = outcomes.map((o) => [
    Number(o.id), o.token, o.finishedAt, o.status, o.runAt, o.outcome, o.error, o.stack, o.leaseExpiredBy ?? null,
  ]);
  statements.push({ sql: WRITE_OUTCOMES, args: { outcomes: JSON.stringify(tuples) } });
  return statements;
}

/** Ids of the jobs whose outcome was written, from the result of the last of `outcomeStatements`. */
export function writtenIds(result: QueryResult): Set<string> {
  return new Set(result.rows.map((r) => String(r.id)));
}
