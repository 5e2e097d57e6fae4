/**
 * Deleting finished jobs an operator no longer wants, in bounded batches, and
 * never a job of a workflow that is still running.
 */
import type { Database } from "./database.ts";
import { BULK_BATCH_ROWS, type FinishedCursor } from "./manage-jobs.ts";

/** The statuses a purge may delete: a job in any other is still in the queue. */
export type PurgeableStatus = "completed" | "dead" | "cancelled";

export interface PurgeFilter {
  status: PurgeableStatus;
  type: string | null;
  /** Only jobs finished at or before this instant (epoch ms); null for every one. */
  finishedBy: number | null;
}

// Candidates are read first, in the finished index's (type, id) order from a
// cursor; the delete then names them by id and tests every condition again,
// so a job retried or a workflow restarted in between is not deleted. Reading
// apart from deleting lets the next cursor move past jobs the delete keeps.
const candidatesSql = (status: PurgeableStatus, byType: boolean, byAge: boolean) => `SELECT id, type FROM spool_jobs
  INDEXED BY spool_jobs_finished
  WHERE status = '${status}' ${byType ? "AND type = :type AND id > :after" : "AND (type, id) > (:afterType, :after)"}
  ${byAge ? "AND finished_at <= :finishedBy" : ""} ORDER BY type, id LIMIT ${BULK_BATCH_ROWS}`;

const countSql = (status: PurgeableStatus, byType: boolean, byAge: boolean) => `SELECT count(*) AS n FROM spool_jobs
  INDEXED BY spool_jobs_finished WHERE status = '${status}' ${byType ? "AND type = :type" : ""} ${byAge ? "AND finished_at <= :finishedBy" : ""}`;

// A workflow is unfinished while any of its jobs has no finished_at (the
// table's CHECK ties finished_at to the final statuses, so this holds for
// statuses added later too). The workflows among the batch are listed once
// and each is looked up through the workflow index once, not once per job.
const DELETE_BATCH = `DELETE FROM spool_jobs
WHERE id IN (SELECT value FROM json_each(:ids)) AND status = :status AND (:finishedBy IS NULL OR finished_at <= :finishedBy)
  AND (workflow_id IS NULL OR workflow_id NOT IN (
    SELECT batch.workflow_id FROM (
      SELECT DISTINCT workflow_id FROM spool_jobs
      WHERE id IN (SELECT value FROM json_each(:ids)) AND workflow_id IS NOT NULL
    ) AS batch
    WHERE EXISTS (SELECT 1 FROM spool_jobs w INDEXED BY spool_jobs_workflow
      WHERE w.workflow_id = batch.workflow_id AND w.finished_at IS NULL)
  ))`;

const cache = new Map<string, string>();
function sqlFor(kind: "candidates" | "count", filter: PurgeFilter): string {
  const key = `${kind}:${filter.status}:${filter.type !== null}:${filter.finishedBy !== null}`;
  let sql = cache.get(key);
  if (sql === undefined) {
    sql = (kind === "candidates" ? candidatesSql : countSql)(filter.status, filter.type !== null, filter.finishedBy !== null);
    cache.set(key, sql);
  }
  return sql;
}

function filterArgs(filter: PurgeFilter): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (filter.type !== null) args.type = filter.type;
  if (filter.finishedBy !== null) args.finishedBy = filter.finishedBy;
  return args;
}

/** How many jobs the filter matches now (jobs of unfinished workflows included), for a progress display. */
export async function countPurgeable(db: Database, filter: PurgeFilter): Promise<number> {
  const result = await db.execute({ sql: sqlFor("count", filter), args: filterArgs(filter) });
  return Number(result.rows[0]!.n);
}

/**
 * One batch of a purge: the next BULK_BATCH_ROWS matching jobs after
 * `cursor` (null: from the start), deleted unless their workflow is
 * unfinished. Returns how many were deleted, how many were looked at, and the
 * cursor to pass next, or null at the end.
 */
export async function purgeBatch(
  db: Database,
  filter: PurgeFilter,
  cursor: FinishedCursor | null,
): Promise<{ purged: number; examined: number; next: FinishedCursor | null }> {
  const args = filterArgs(filter);
  args.after = cursor?.id ?? 0;
  if (filter.type === null) args.afterType = cursor?.type ?? "";
  const candidates = (await db.execute({ sql: sqlFor("candidates", filter), args })).rows;
  if (candidates.length === 0) return { purged: 0, examined: 0, next: null };
  const last = candidates[candidates.length - 1]!;
  const result = await db.execute({
    sql: DELETE_BATCH,
    args: { ids: JSON.stringify(candidates.map((r) => Number(r.id))), status: filter.status, finishedBy: filter.finishedBy },
  });
  return {
    purged: result.rowsAffected,
    examined: candidates.length,
    next: candidates.length < BULK_BATCH_ROWS ? null : { type: String(last.type), id: Number(last.id) },
  };
}
