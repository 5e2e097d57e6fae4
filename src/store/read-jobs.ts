/**
 * Reading jobs back: one by id, pages by status, counts.
 */
import { isJobId } from "../core/job-id.ts";
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
  blocked: "spool_jobs_blocked",
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
  if (!isJobId(id)) return null;
  const result = await db.execute({ sql: BY_ID, args: [Number(id)] });
  const row = result.rows[0];
  return row ? rowToJob(row) : null;
}

export interface JobPage {
  jobs: Job[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface JobListing {
  status: JobStatus;
  type?: string;
  /** Only jobs of this queue. */
  queue?: string;
  /** Only jobs of this workflow. */
  workflowId?: string;
  /** Only jobs whose payload's JSON text contains this string (case-sensitive). */
  q?: string;
  limit: number;
  cursor?: string;
}

/**
 * How many jobs one page with a queue, workflow or payload filter looks at,
 * at most. None of these filters is in the status indexes, so a page tests
 * each job's row in id order; without a bound, a rare match would read
 * every row of the table for one page.
 */
export const FILTER_WINDOW = 10_000;

export async function listJobs(db: Database, query: JobListing): Promise<JobPage> {
  if (query.queue !== undefined || query.workflowId !== undefined || query.q !== undefined) return listFilteredJobs(db, query);
  const after = query.cursor ? Number(query.cursor) : 0;
  const args = query.type ? { type: query.type, after, limit: query.limit + 1 } : { after, limit: query.limit + 1 };
  const result = await db.execute({ sql: PAGE_SQL.get(query.type ? `${query.status}:type` : query.status)!, args });
  const jobs = result.rows.slice(0, query.limit).map(rowToJob);
  const more = result.rows.length > query.limit;
  return { jobs, nextCursor: more ? jobs[jobs.length - 1]!.id : null };
}

// The jobs a filtered page may look at, after the cursor: the next
// FILTER_WINDOW ids of the workflow (its index is in id order), of the
// finished status and type (so is that index), or else of the whole table in
// rowid order. A status's own ids would need sorting first: at 900,000 dead
// jobs that sort alone took over a second a page, where the next 10,000 rows
// of the table cost the same at any size.
function windowOf(status: JobStatus, byType: boolean, byWorkflow: boolean): string {
  if (byWorkflow) {
    return `SELECT id FROM spool_jobs INDEXED BY spool_jobs_workflow WHERE workflow_id = :workflow AND id > :after ORDER BY id LIMIT ${FILTER_WINDOW}`;
  }
  if (byType && STATUS_INDEX[status] === "spool_jobs_finished") {
    return `SELECT id FROM spool_jobs INDEXED BY spool_jobs_finished
    WHERE status = '${status}' AND type = :type AND id > :after ORDER BY id LIMIT ${FILTER_WINDOW}`;
  }
  return `SELECT id FROM spool_jobs NOT INDEXED WHERE id > :after ORDER BY id LIMIT ${FILTER_WINDOW}`;
}

/** True when the window holds only jobs of the status and type already. */
const windowIsExact = (status: JobStatus, filters: { type: boolean; workflow: boolean }) =>
  !filters.workflow && filters.type && STATUS_INDEX[status] === "spool_jobs_finished";

// One statement answers the page and where its window ended: the window is
// materialised once, its rows are read by id (NOT INDEXED: left to itself,
// SQLite walked the whole status index testing each id against the window),
// and the LEFT JOIN keeps one row, with the edge, when nothing in it matched.
// The WITH sits inside a SELECT so the statement reads as one that cannot write.
function filteredPageOf(status: JobStatus, filters: { type: boolean; queue: boolean; workflow: boolean; q: boolean }): string {
  const exact = windowIsExact(status, filters);
  const conditions = [
    exact ? "" : `status = '${status}'`,
    !exact && filters.type ? "type = :type" : "",
    filters.queue ? "queue = :queue" : "",
    filters.q ? "instr(payload, :q) > 0" : "",
  ].filter((c) => c !== "");
  return `SELECT * FROM (
  WITH scanned AS MATERIALIZED (${windowOf(status, filters.type, filters.workflow)}),
    edge AS (SELECT count(*) AS window_rows, max(id) AS window_last FROM scanned)
  SELECT edge.window_rows, edge.window_last, page.* FROM edge LEFT JOIN (
    SELECT ${JOB_COLUMNS} FROM spool_jobs NOT INDEXED WHERE id IN (SELECT id FROM scanned) AND ${conditions.join(" AND ")}
    ORDER BY id LIMIT :limit
  ) AS page ORDER BY page.id)`;
}

const FILTERED_SQL = new Map<string, string>();

/**
 * A page that a queue, workflow or payload filter narrows: the matches among
 * the next FILTER_WINDOW jobs after the cursor. A page may hold fewer than
 * `limit` jobs, none even, and still have a `nextCursor` (the last job the
 * window looked at); the listing ends when `nextCursor` is null.
 */
async function listFilteredJobs(db: Database, query: JobListing): Promise<JobPage> {
  const filters = { type: query.type !== undefined, queue: query.queue !== undefined, workflow: query.workflowId !== undefined, q: query.q !== undefined };
  const key = `${query.status}:${Object.values(filters).map(Number).join("")}`;
  let sql = FILTERED_SQL.get(key);
  if (!sql) FILTERED_SQL.set(key, (sql = filteredPageOf(query.status, filters)));
  const args: Record<string, unknown> = { after: query.cursor ? Number(query.cursor) : 0, limit: query.limit + 1 };
  if (filters.type) args.type = query.type;
  if (filters.queue) args.queue = query.queue;
  if (filters.workflow) args.workflow = query.workflowId;
  if (filters.q) args.q = query.q;
  const rows = (await db.execute({ sql, args })).rows;
  const matches = rows.filter((row) => row.id !== null);
  const jobs = matches.slice(0, query.limit).map(rowToJob);
  if (matches.length > query.limit) return { jobs, nextCursor: jobs[jobs.length - 1]!.id };
  // fewer matches than asked for: the window ended the page, or the jobs did
  const edge = rows[0]!;
  return { jobs, nextCursor: Number(edge.window_rows) >= FILTER_WINDOW ? String(edge.window_last) : null };
}

export async function countJobsByStatus(db: Database): Promise<Record<JobStatus, number>> {
  const counts: Record<JobStatus, number> = { blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 };
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
    byType[type] ??= { blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 };
    byType[type][row.status as JobStatus] = Number(row.n);
  }
  return byType;
}
