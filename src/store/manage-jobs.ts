/**
 * Operator actions on single jobs and on the dead-letter queue.
 */
import type { Database } from "./database.ts";

const REPLAY = `UPDATE spool_jobs SET status = 'pending', attempts = 0, finished_at = NULL, run_at = :now,
  lease_token = NULL, cancel_requested = 0, effective_priority = priority,
  idempotency_until = NULL
WHERE id = :id AND status IN ('dead', 'cancelled') RETURNING id`;

const REPLAY_DEAD = `UPDATE spool_jobs SET status = 'pending', attempts = 0, finished_at = NULL, run_at = :now,
  lease_token = NULL, cancel_requested = 0, effective_priority = priority, idempotency_until = NULL
WHERE status = 'dead' AND (:type IS NULL OR type = :type)`;

const CANCEL_WAITING = `UPDATE spool_jobs SET status = 'cancelled', finished_at = :now,
  idempotency_until = CASE WHEN idempotency_held = 1 THEN :now + idempotency_window_ms ELSE NULL END
WHERE id = :id AND status IN ('scheduled', 'pending') RETURNING id`;

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
  if (!/^\d{1,18}$/.test(id)) return { ok: false, reason: "not_found" };
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
  if (/^\d{1,18}$/.test(id)) {
    const result = await db.execute({ sql: REPLAY, args: { id: Number(id), now } });
    if (result.rows.length > 0) return { ok: true, status: "pending" };
  }
  return explainMiss(db, id);
}

/** Every dead job (of `type`, when given) back to pending; returns how many. */
export async function replayDeadJobs(db: Database, type: string | null, now: number): Promise<number> {
  const result = await db.execute({ sql: REPLAY_DEAD, args: { type, now } });
  return result.rowsAffected;
}

/**
 * scheduled|pending -> cancelled at once; a running job is flagged and its
 * worker stops it at the next lease renewal (result status "cancelling").
 */
export async function cancelJob(db: Database, id: string, now: number): Promise<ManageResult> {
  if (/^\d{1,18}$/.test(id)) {
    const [waiting, running] = await db.batch(
      [
        { sql: CANCEL_WAITING, args: { id: Number(id), now } },
        { sql: REQUEST_CANCEL_RUNNING, args: { id: Number(id) } },
      ],
      "write",
    );
    if (waiting!.rows.length > 0) return { ok: true, status: "cancelled" };
    if (running!.rows.length > 0) return { ok: true, status: "cancelling" };
  }
  return explainMiss(db, id);
}
