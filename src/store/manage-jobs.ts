/**
 * Operator actions on single jobs and on the dead-letter queue, the bulk ones
 * in bounded batches.
 */
import { isJobId } from "../core/job-id.ts";
import type { Database } from "./database.ts";
import { settleStatements } from "./dependencies.ts";

const REPLAY = `UPDATE spool_jobs SET status = 'pending', attempts = 0, finished_at = NULL, run_at = :now,
  lease_token = NULL, cancel_requested = 0, effective_priority = priority,
  idempotency_until = NULL
WHERE id = :id AND status IN ('dead', 'cancelled') RETURNING id`;

const CANCEL_WAITING = `UPDATE spool_jobs SET status = 'cancelled', finished_at = :now,
  idempotency_until = CASE WHEN idempotency_held = 1 THEN :now + idempotency_window_ms ELSE NULL END
WHERE id = :id AND status IN ('blocked', 'scheduled', 'pending') RETURNING id`;

const REQUEST_CANCEL_RUNNING = `UPDATE spool_jobs SET cancel_requested = 1 WHERE id = :id AND status = 'running' RETURNING id`;

const STATUS_OF = `SELECT status, attempts, worker_id, cancel_requested FROM spool_jobs WHERE id = ?`;

/** The attempt a running job is in, for a refusal that names it. */
export interface RunningAttempt {
  attempt: number;
  workerId: string | null;
  cancelRequested: boolean;
}

export type ManageResult =
  | { ok: true; status: "pending" | "cancelled" | "cancelling" }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "conflict"; status: string; running?: RunningAttempt };

async function explainMiss(db: Database, id: string): Promise<ManageResult> {
  if (!isJobId(id)) return { ok: false, reason: "not_found" };
  const row = (await db.execute({ sql: STATUS_OF, args: [Number(id)] })).rows[0];
  if (!row) return { ok: false, reason: "not_found" };
  const status = String(row.status);
  if (status !== "running") return { ok: false, reason: "conflict", status };
  const running = { attempt: Number(row.attempts), workerId: row.worker_id === null ? null : String(row.worker_id), cancelRequested: Number(row.cancel_requested) === 1 };
  return { ok: false, reason: "conflict", status, running };
}

/**
 * dead|cancelled -> pending, attempts reset. A job cancelled while running
 * stays `running` until its attempt ends, so it cannot be replayed while a
 * handler may still be at work on it (conflict, naming the attempt).
 */
export async function replayJob(db: Database, id: string, now: number): Promise<ManageResult> {
  if (isJobId(id)) {
    const result = await db.execute({ sql: REPLAY, args: { id: Number(id), now } });
    if (result.rows.length > 0) return { ok: true, status: "pending" };
  }
  return explainMiss(db, id);
}

/** Which dead jobs a bulk replay takes: every one, or those of a type and/or a queue. */
export interface DeadJobFilter {
  type: string | null;
  queue: string | null;
}

/** Where a bulk operation has got to in the finished index: the (type, id) of the last job it took. */
export interface FinishedCursor {
  type: string;
  id: number;
}

/** At most this many rows change in one statement of a bulk operation, so none holds the write lock for long. */
export const BULK_BATCH_ROWS = 1_000;

// The finished index is (status, type, id): a bulk pass walks it in that
// order from a (type, id) cursor, which reads each job once and sorts
// nothing, with or without a type. A queue is tested on the row.
const deadWindow = (byType: boolean, byQueue: boolean) => `SELECT id FROM spool_jobs INDEXED BY spool_jobs_finished
  WHERE status = 'dead' ${byType ? "AND type = :type AND id > :after" : "AND (type, id) > (:afterType, :after)"}
  ${byQueue ? "AND queue = :queue" : ""} ORDER BY type, id LIMIT ${BULK_BATCH_ROWS}`;

const replayDeadSql = (byType: boolean, byQueue: boolean) => `UPDATE spool_jobs SET status = 'pending', attempts = 0,
  finished_at = NULL, run_at = :now, lease_token = NULL, cancel_requested = 0, effective_priority = priority, idempotency_until = NULL
WHERE id IN (${deadWindow(byType, byQueue)}) RETURNING id, type`;

const countDeadSql = (byType: boolean, byQueue: boolean) => `SELECT count(*) AS n FROM spool_jobs INDEXED BY spool_jobs_finished
  WHERE status = 'dead' ${byType ? "AND type = :type" : ""} ${byQueue ? "AND queue = :queue" : ""}`;

const variants = <T>(make: (byType: boolean, byQueue: boolean) => T) =>
  new Map<string, T>([false, true].flatMap((t) => [false, true].map((q) => [`${t}${q}`, make(t, q)] as [string, T])));
const REPLAY_DEAD_BATCH = variants(replayDeadSql);
const COUNT_DEAD = variants(countDeadSql);
const variantOf = (filter: DeadJobFilter) => `${filter.type !== null}${filter.queue !== null}`;

/** How many dead jobs the filter takes now, for a progress display. */
export async function countDeadJobs(db: Database, filter: DeadJobFilter): Promise<number> {
  const args: Record<string, unknown> = {};
  if (filter.type !== null) args.type = filter.type;
  if (filter.queue !== null) args.queue = filter.queue;
  const result = await db.execute({ sql: COUNT_DEAD.get(variantOf(filter))!, args });
  return Number(result.rows[0]!.n);
}

/**
 * One statement of a bulk replay: up to BULK_BATCH_ROWS dead jobs after
 * `cursor` (null: from the start) back to pending, attempts reset. Returns
 * how many, and the cursor to pass next, or null when no dead job was left.
 * A job that dies again during the pass is behind the cursor and stays dead.
 */
export async function replayDeadBatch(
  db: Database,
  filter: DeadJobFilter,
  cursor: FinishedCursor | null,
  now: number,
): Promise<{ replayed: number; next: FinishedCursor | null }> {
  const args: Record<string, unknown> = { now, after: cursor?.id ?? 0 };
  if (filter.type !== null) args.type = filter.type;
  else args.afterType = cursor?.type ?? "";
  if (filter.queue !== null) args.queue = filter.queue;
  const result = await db.execute({ sql: REPLAY_DEAD_BATCH.get(variantOf(filter))!, args });
  let next: FinishedCursor | null = null;
  for (const row of result.rows) {
    const at = { type: String(row.type), id: Number(row.id) };
    if (next === null || at.type > next.type || (at.type === next.type && at.id > next.id)) next = at;
  }
  return { replayed: result.rows.length, next: result.rows.length < BULK_BATCH_ROWS ? null : next };
}

/**
 * blocked|scheduled|pending -> cancelled at once; a running job is flagged and its
 * worker stops it at the next lease renewal (result status "cancelling").
 */
export async function cancelJob(db: Database, id: string, now: number): Promise<ManageResult> {
  if (isJobId(id)) {
    const [waiting, running] = await db.batch(
      [
        { sql: CANCEL_WAITING, args: { id: Number(id), now } },
        { sql: REQUEST_CANCEL_RUNNING, args: { id: Number(id) } },
        // its dependents are cancelled with it (or released, if they run on a dependency's failure)
        ...settleStatements(now),
      ],
      "write",
    );
    if (waiting!.rows.length > 0) return { ok: true, status: "cancelled" };
    if (running!.rows.length > 0) return { ok: true, status: "cancelling" };
  }
  return explainMiss(db, id);
}
