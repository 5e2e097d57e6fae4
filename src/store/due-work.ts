/**
 * What a drain leaves behind: how many jobs are due now that it could have
 * run, and when the next scheduled job or cron tick comes due, in one read.
 */
import type { Database } from "./database.ts";

// Only jobs a drain could claim count: its queues, unpaused, and types it
// defines (a job of a type no handler here runs would make a caller trigger
// again and again for nothing). Scheduled jobs whose time came during the
// drain are due too, though not yet promoted.
const DUE_WORK = `SELECT
  (SELECT count(*) FROM spool_jobs
    WHERE (status = 'pending' OR (status = 'scheduled' AND run_at <= :now))
      AND type IN (SELECT value FROM json_each(:types))
      AND queue NOT IN (SELECT name FROM spool_queues WHERE paused = 1)
      AND (:queues IS NULL OR queue IN (SELECT value FROM json_each(:queues)))) AS remaining,
  (SELECT min(run_at) FROM spool_jobs INDEXED BY spool_jobs_due WHERE status = 'scheduled') AS next_job,
  (SELECT min(next_fire_at) FROM spool_schedules WHERE paused = 0) AS next_tick`;

export interface DueWork {
  /** Jobs due at `now` in the given queues, of the given types, in unpaused queues. */
  remaining: number;
  /** The earliest run time of a scheduled job or next fire time of an unpaused schedule; null when there is none. */
  nextDueAt: number | null;
}

/** Counts the due jobs a drain of `queues` (null: all) and `types` could run, and finds the next due time. */
export async function dueWork(db: Database, request: { now: number; queues: string[] | null; types: string[] }): Promise<DueWork> {
  const result = await db.execute({
    sql: DUE_WORK,
    args: {
      now: request.now,
      types: JSON.stringify(request.types),
      queues: request.queues === null ? null : JSON.stringify(request.queues),
    },
  });
  const row = result.rows[0]!;
  const times = [row.next_job, row.next_tick].filter((t) => t !== null && t !== undefined).map(Number);
  return { remaining: Number(row.remaining), nextDueAt: times.length === 0 ? null : Math.min(...times) };
}
