/**
 * Retention: deleting completed jobs older than the retention period, in
 * bounded batches, never a job of a workflow that is still unfinished.
 */
import type { Database } from "./database.ts";

/** Most rows one retention statement deletes, so the write lock is held only briefly. */
export const RETENTION_BATCH_ROWS = 1000;

// Types that have completed jobs, from the finished counts (schema migration 6).
const COMPLETED_TYPES = `SELECT type FROM spool_job_counts WHERE status = 'completed' AND n > 0 GROUP BY type ORDER BY type`;

// Completed jobs of one type in id order, down the finished index. Jobs
// finish roughly in the order they were enqueued, so a type's oldest
// finished jobs come first; the caller stops at the first one that is too
// young instead of reading every completed job on each pass.
const CANDIDATES = `SELECT id, finished_at FROM spool_jobs INDEXED BY spool_jobs_finished
  WHERE status = 'completed' AND type = :type AND id > :after ORDER BY id LIMIT ${RETENTION_BATCH_ROWS}`;

// Every condition is tested again: a job retried in between is not deleted.
// A workflow is unfinished while any of its jobs has no finished_at (the
// table's CHECK ties finished_at to the final statuses).
const DELETE = `DELETE FROM spool_jobs
WHERE id IN (SELECT value FROM json_each(:ids)) AND status = 'completed' AND finished_at <= :cutoff
  AND (workflow_id IS NULL OR NOT EXISTS (
    SELECT 1 FROM spool_jobs w INDEXED BY spool_jobs_workflow
    WHERE w.workflow_id = spool_jobs.workflow_id AND w.finished_at IS NULL))`;

/** The job types that have completed jobs now. */
export async function completedTypes(db: Database): Promise<string[]> {
  return (await db.execute(COMPLETED_TYPES)).rows.map((r) => String(r.type));
}

/**
 * One batch of retention for `type`: reads up to RETENTION_BATCH_ROWS
 * completed jobs after id `after` and deletes those, up to the first finished
 * after `cutoff`, whose workflow is finished. Returns how many it deleted,
 * the cursor for the next batch, or null when the type has nothing older left.
 */
export async function deleteCompletedBatch(
  db: Database,
  type: string,
  cutoff: number,
  after: number,
): Promise<{ deleted: number; next: number | null }> {
  const rows = (await db.execute({ sql: CANDIDATES, args: { type, after } })).rows;
  const ids: number[] = [];
  for (const row of rows) {
    if (Number(row.finished_at) > cutoff) break;
    ids.push(Number(row.id));
  }
  if (ids.length === 0) return { deleted: 0, next: null };
  const result = await db.execute({ sql: DELETE, args: { ids: JSON.stringify(ids), cutoff } });
  const whole = ids.length === rows.length && rows.length === RETENTION_BATCH_ROWS;
  return { deleted: result.rowsAffected, next: whole ? ids[ids.length - 1]! : null };
}
