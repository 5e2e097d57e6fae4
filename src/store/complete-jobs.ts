/**
 * Writing outcomes. Every outcome of a batch goes in one UPDATE ... FROM
 * json_each, conditional on the job still running under the lease token the
 * attempt was given: a worker that lost its lease can never overwrite newer
 * state. Children staged by completed handlers are inserted in the same
 * transaction, on the same condition, and so is the settling of the
 * dependents of every job the batch finished (dependencies.ts).
 */
import type { QueryResult, SqlStatement } from "./connection.ts";
import type { Outcome } from "../core/transitions.ts";
import type { Database } from "./database.ts";
import { type SettledJob, settleStatements, settleStatementsIfFlagged, settledJobs } from "./dependencies.ts";
import { childInsertStatements } from "./insert-jobs.ts";

export type { Outcome };

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
RETURNING spool_jobs.id, spool_jobs.has_dependents`;

// A batch of nothing but completions, the usual batch of a busy worker,
// writes only what a completion changes: fewer columns set and no JSON field
// read twice made the write about a quarter cheaper per job (README,
// performance). Same lease condition, same RETURNING as WRITE_OUTCOMES.
const WRITE_COMPLETIONS = `
UPDATE spool_jobs NOT INDEXED SET
  status = 'completed',
  finished_at = o.value->>2,
  lease_expires_at = NULL,
  effective_priority = priority,
  idempotency_until = CASE WHEN idempotency_held = 1 THEN (o.value->>2) + idempotency_window_ms ELSE NULL END
FROM json_each(:outcomes) AS o
WHERE spool_jobs.id = o.value->>0 AND spool_jobs.lease_token = o.value->>1 AND spool_jobs.status = 'running'
RETURNING spool_jobs.id, spool_jobs.has_dependents`;

/** What a batch of outcomes did. */
export interface CompleteResult {
  /** Ids whose outcome was written (their lease still held); the others were discarded. */
  written: Set<string>;
  /** Dependents the batch released or cancelled. */
  settled: SettledJob[];
}

// Results and warnings go in their own statement, before the write and on
// the same lease condition, only in batches that have any: a no-op job's
// completion then costs what it did before jobs had results.
const WRITE_RESULTS = `
UPDATE spool_jobs NOT INDEXED SET
  result = coalesce(o.value->>2, result),
  warnings = CASE WHEN o.value->>3 IS NULL THEN warnings ELSE (SELECT json_group_array(json(w.value)) FROM (
    SELECT value FROM json_each(coalesce(warnings, '[]'))
    UNION ALL SELECT json_object('attempt', attempts, 'message', m.value) FROM json_each(o.value->>3) AS m) AS w) END
FROM json_each(:results) AS o
WHERE spool_jobs.id = o.value->>0 AND spool_jobs.lease_token = o.value->>1 AND spool_jobs.status = 'running'`;

/** Writes the outcomes in one transaction. */
export async function completeJobs(db: Database, outcomes: Outcome[], now: number): Promise<CompleteResult> {
  if (outcomes.length === 0) return { written: new Set(), settled: [] };
  const at = outcomeStatements(outcomes, now);
  return completeResult(await db.batch(at.statements, "write"), at);
}

/** The statements of a batch of outcomes, and where the write and the settling are among them (for `completeResult`). */
export interface OutcomeStatements {
  statements: SqlStatement[];
  write: number;
  /** Where the cascade and release statements are (settleStatements). */
  settle: number;
}

/**
 * The statements that write `outcomes`, then settle the dependents of what
 * they finished: at once when one of them has dependents (as its claim saw
 * it) or stages a job with `after`; otherwise only if the write noted a job
 * that gained a dependent while it ran (settleStatementsIfFlagged).
 */
export function outcomeStatements(outcomes: Outcome[], now: number): OutcomeStatements {
  const statements: SqlStatement[] = [];
  let settle = false;
  for (const o of outcomes) {
    if (o.hasDependents) settle = true;
    if (o.status === "completed" && o.children && o.children.length > 0) {
      statements.push(...childInsertStatements(o.id, o.token, o.children, now));
      if (o.children.some((child) => child.after !== null)) settle = true;
    }
  }
  const completions = outcomes.every((o) => o.status === "completed");
  const tuples = completions
    ? outcomes.map((o) => [Number(o.id), o.token, o.finishedAt])
    : outcomes.map((o) => [Number(o.id), o.token, o.finishedAt, o.status, o.runAt, o.outcome, o.error, o.stack, o.leaseExpiredBy ?? null]);
  let results: unknown[][] | null = null;
  for (const o of outcomes) {
    const warned = o.warnings !== undefined && o.warnings.length > 0;
    if (o.result != null || warned) (results ??= []).push([Number(o.id), o.token, o.result ?? null, warned ? o.warnings : null]);
  }
  if (results !== null) statements.push({ sql: WRITE_RESULTS, args: { results: JSON.stringify(results) } });
  const write = statements.length;
  statements.push({ sql: completions ? WRITE_COMPLETIONS : WRITE_OUTCOMES, args: { outcomes: JSON.stringify(tuples) } });
  if (settle) statements.push(...settleStatements(now));
  else statements.push(...settleStatementsIfFlagged(now, write));
  return { statements, write, settle: write + 1 };
}

/** What the statements of `outcomeStatements` did, from their results in order. */
export function completeResult(results: QueryResult[], at: OutcomeStatements): CompleteResult {
  return {
    written: new Set(results[at.write]!.rows.map((r) => String(r.id))),
    // cascade, then release (settleStatements); empty when skipped
    settled: settledJobs(results[at.settle]!, results[at.settle + 1]!),
  };
}
