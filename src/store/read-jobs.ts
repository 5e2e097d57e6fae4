/**
 * Reading jobs back: one by id, pages by status, counts.
 */
import type { Job } from "../core/job.ts";
import type { JobStatus } from "../core/states.ts";
import type { Database } from "./database.ts";
import { JOB_COLUMNS, rowToJob } from "./job-row.ts";

const BY_ID = `SELECT ${JOB_COLUMNS} FROM spool_jobs WHERE id = ?`;

// Each status is read through the one index that holds exactly its jobs. A
// finished status pages straight down its index; an active one sorts its
// index's entries by id, which costs in proportion to how many jobs are in
// that status, not to the whole table.
const STATUS_INDEX: Record<JobStatus, string> = {
  scheduled: "spool_jobs_due",
  pending: "spool_jobs_ready",
  running: "spool_jobs_leases",
  completed: "spool_jobs_finished",
  dead: "spool_jobs_finished",
  cancelled: "spool_jobs_finished",
};

// The status is written into the SQL, not bound: SQLite uses a partial index
// only when it can see that the query's WHERE implies the index's.
const pageOf = (status: JobStatus, byType: boolean) => `SELECT ${JOB_COLUMNS} FROM spool_jobs INDEXED BY ${STATUS_INDEX[status]}
  WHERE status = '${status}' ${byType ? "AND type = :type" : ""} AND id > :after ORDER BY id LIMIT :limit`;

export const PAGE_SQL: ReadonlyMap<string, string> = new Map<string, string>(
  (Object.keys(STATUS_INDEX) as JobStatus[]).flatMap((status) => [
    [`${status}`, pageOf(status, false)],
    [`${status}:type`, pageOf(status, true)],
  ]),
);

export const COUNTS_SQL = (Object.keys(STATUS_INDEX) as JobStatus[])
  .map((status) => `SELECT '${status}' AS status, count(*) AS n FROM spool_jobs INDEXED BY ${STATUS_INDEX[status]} WHERE status = '${status}'`)
  .join(" UNION ALL ");

// Per type, through the same indexes: pending and the finished statuses
// count their index entries alone (type is in the index); scheduled and
// running read their rows, of which there are only as many as are waiting or
// running.
export const COUNTS_BY_TYPE_SQL = (Object.keys(STATUS_INDEX) as JobStatus[])
  .map((status) => `SELECT '${status}' AS status, type, count(*) AS n FROM spool_jobs INDEXED BY ${STATUS_INDEX[status]} WHERE status = '${status}' GROUP BY type`)
  .join(" UNION ALL ");

/** The job with this id, or null. Ids are decimal strings; anything else finds nothing. */
export async function getJob(db: Database, id: string): Promise<Job | null> {
  if (!/^\d{1,18}$/.test(id)) return null;
  const result = await db.execute({ sql: BY_ID, args: [Number(id)] });
  const row = result.rows[0];
  return row ? rowToJob(row) : null;
}

export interface JobPage {
  jobs: Job[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export async function listJobs(
  db: Database,
  query: { status: JobStatus; type?: string; limit: number; cursor?: string },
): Promise<JobPage> {
  const after = query.cursor ? Number(query.cursor) : 0;
  const args = query.type ? { type: query.type, after, limit: query.limit + 1 } : { after, limit: query.limit + 1 };
  const result = await db.execute({ sql: PAGE_SQL.get(query.type ? `${query.status}:type` : query.status)!, args });
  const jobs = result.rows.slice(0, query.limit).map(rowToJob);
  const more = result.rows.length > query.limit;
  return { jobs, nextCursor: more ? jobs[jobs.length - 1]!.id : null };
}

export async function countJobsByStatus(db: Database): Promise<Record<JobStatus, number>> {
  const counts: Record<JobStatus, number> = { scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 };
  const result = await db.execute(COUNTS_SQL);
  for (const row of result.rows) counts[row.status as JobStatus] = Number(row.n);
  return counts;
}

/** Counts of jobs by type, then by status (every status present, 0 when none); types with no job are absent. */
export async function countJobsByType(db: Database): Promise<Record<string, Record<JobStatus, number>>> {
  const byType: Record<string, Record<JobStatus, number>> = {};
  const result = await db.execute(COUNTS_BY_TYPE_SQL);
  for (const row of result.rows) {
    const type = String(row.type);
    byType[type] ??= { scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 };
    byType[type][row.status as JobStatus] = Number(row.n);
  }
  return byType;
}
