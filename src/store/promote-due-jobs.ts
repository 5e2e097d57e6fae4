/**
 * Moves scheduled jobs whose time has come to pending, and says when the next
 * one is due.
 */
import type { Database } from "./database.ts";
import type { QueryResult } from "./connection.ts";

export const PROMOTE_SQL = `UPDATE spool_jobs SET status = 'pending'
WHERE id IN (SELECT id FROM spool_jobs INDEXED BY spool_jobs_due WHERE status = 'scheduled' AND run_at <= :now ORDER BY run_at LIMIT :limit)`;

export const NEXT_DUE_SQL = `SELECT min(run_at) AS next FROM spool_jobs INDEXED BY spool_jobs_due WHERE status = 'scheduled'`;

export interface PromoteResult {
  promoted: number;
  /** Earliest run time still scheduled, or null when none is. */
  nextDueAt: number | null;
}

/**
 * Looks first, without a lock: most passes find nothing due, and each worker's
 * promoter runs several passes a second, so taking the write lock for nothing
 * would stand in the way of every process's claims.
 */
export async function promoteDueJobs(db: Database, now: number, limit = 5000): Promise<PromoteResult> {
  const earliest = nextDueOf(await db.execute(NEXT_DUE_SQL));
  if (earliest === null || earliest > now) return { promoted: 0, nextDueAt: earliest };
  const [promote, next] = await db.batch(
    [
      { sql: PROMOTE_SQL, args: { now, limit } },
      { sql: NEXT_DUE_SQL, args: [] },
    ],
    "write",
  );
  return { promoted: promote!.rowsAffected, nextDueAt: nextDueOf(next!) };
}

function nextDueOf(result: QueryResult): number | null {
  const next = result.rows[0]?.next;
  return next === null || next === undefined ? null : Number(next);
}
