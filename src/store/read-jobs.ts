/**
 * Reading jobs back: one by id, pages by status, counts.
 */
import type { Job } from "../core/job.ts";
import type { JobStatus } from "../core/states.ts";
import type { Database } from "./database.ts";
import { JOB_COLUMNS, rowToJob } from "./job-row.ts";

const BY_ID = `SELECT ${JOB_COLUMNS} FROM spool_jobs WHERE id = ?`;
const PAGE_OF_STATUS = `SELECT ${JOB_COLUMNS} FROM spool_jobs
  WHERE status = :status AND id > :after ORDER BY status, id LIMIT :limit`;
const PAGE_OF_STATUS_AND_TYPE = `SELECT ${JOB_COLUMNS} FROM spool_jobs
  WHERE status = :status AND type = :type AND id > :after ORDER BY status, type, id LIMIT :limit`;
const COUNTS = `SELECT status, count(*) AS n FROM spool_jobs GROUP BY status`;

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
  const args = { status: query.status, type: query.type ?? null, after, limit: query.limit + 1 };
  const result = await db.execute({ sql: query.type ? PAGE_OF_STATUS_AND_TYPE : PAGE_OF_STATUS, args });
  const jobs = result.rows.slice(0, query.limit).map(rowToJob);
  const more = result.rows.length > query.limit;
  return { jobs, nextCursor: more ? jobs[jobs.length - 1]!.id : null };
}

export async function countJobsByStatus(db: Database): Promise<Record<JobStatus, number>> {
  const counts: Record<JobStatus, number> = { scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 };
  const result = await db.execute(COUNTS);
  for (const row of result.rows) counts[row.status as JobStatus] = Number(row.n);
  return counts;
}
