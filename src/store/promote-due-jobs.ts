/**
 * Moves scheduled jobs whose time has come to pending, and says when the next
 * one is due.
 */
import type { Database } from "./database.ts";

export const PROMOTE_SQL = `UPDATE spool_jobs SET status = 'pending'
WHERE id IN (SELECT id FROM spool_jobs INDEXED BY spool_jobs_due WHERE status = 'scheduled' AND run_at <= :now ORDER BY run_at LIMIT :limit)`;

export const NEXT_DUE_SQL = `SELECT min(run_at) AS next FROM spool_jobs INDEXED BY spool_jobs_due WHERE status = 'scheduled'`;

export interface PromoteResult {
  promoted: number;
  /** Earliest run time still scheduled, or null when none is. */
  nextDueAt: number | null;
}

export async function promoteDueJobs(db: Database, now: number, limit = 5000): Promise<PromoteResult> {
  const [promote, next] = await db.batch(
    [
      { sql: PROMOTE_SQL, args: { now, limit } },
      { sql: NEXT_DUE_SQL, args: [] },
    ],
    "write",
  );
  const nextDue = next!.rows[0]?.next;
  return { promoted: promote!.rowsAffected, nextDueAt: nextDue === null || nextDue === undefined ? null : Number(nextDue) };
}
