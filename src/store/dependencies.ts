/**
 * Fan-in in the database. A job enqueued with `after` is inserted `blocked`
 * with one row per dependency in spool_dependencies, and every dependency is
 * flagged `has_dependents`. When a flagged job finishes, a trigger notes it in
 * spool_settle; the batch that finished it then runs `settleStatements`:
 * cancel (recursively) the blocked dependents of failed jobs, release every
 * blocked dependent with no unfinished dependency left (`NOT EXISTS`), and
 * empty spool_settle. Writes are serialised, so when the last two
 * dependencies finish at once in two processes, the second transaction sees
 * the first's work and the dependent is released exactly once; a batch
 * retried after an unclear commit finds nothing blocked to release. Jobs
 * nobody waits for are never noted, so their batches read only an empty table.
 */
import type { Dependency } from "../core/job.ts";
import { dependencyFailureMessage } from "../core/transitions.ts";
import type { Database } from "./database.ts";
import type { QueryResult, SqlStatement } from "./connection.ts";

// CROSS JOIN keeps SQLite's join order: from the few rows in spool_settle
// outwards, never from an index over every finished job or every edge.
// The cause's words are the ones dependencyFailureMessage writes; the cause
// may be cancelled by this very statement, so it is read as cancelled unless dead.
const CAUSE_STATUS = `CASE WHEN cause.status = 'dead' THEN 'dead' ELSE 'cancelled' END`;
const CAUSE_MESSAGE = dependencyFailureMessage({ id: "#ID#", type: "#TYPE#", status: "#STATUS#" })
  .split(/(#ID#|#TYPE#|#STATUS#)/)
  .map((part) => (part === "#ID#" ? "cause.id" : part === "#TYPE#" ? "cause.type" : part === "#STATUS#" ? CAUSE_STATUS : `'${part.replaceAll("'", "''")}'`))
  .join(" || ");

/** Blocked dependents of failed jobs, and theirs in turn, unless they run on a dependency's failure. */
export const CASCADE_SQL = `WITH RECURSIVE doomed(id, cause) AS (
    SELECT d.job_id, s.id FROM spool_settle s
      CROSS JOIN spool_jobs f ON f.id = s.id
      CROSS JOIN spool_dependencies d ON d.depends_on = s.id
      CROSS JOIN spool_jobs j ON j.id = d.job_id
    WHERE (f.status = 'dead' OR f.status = 'cancelled') AND j.status = 'blocked' AND j.on_dependency_failure IS NULL
    UNION
    SELECT d.job_id, doomed.id FROM doomed
      CROSS JOIN spool_dependencies d ON d.depends_on = doomed.id
      CROSS JOIN spool_jobs j ON j.id = d.job_id
    WHERE j.status = 'blocked' AND j.on_dependency_failure IS NULL
  )
UPDATE spool_jobs SET status = 'cancelled', finished_at = :now, cancelled_by = c.cause,
  last_error = ${CAUSE_MESSAGE},
  idempotency_until = CASE WHEN spool_jobs.idempotency_held = 1 THEN :now + spool_jobs.idempotency_window_ms ELSE NULL END
FROM (SELECT id, min(cause) AS cause FROM doomed GROUP BY id) AS c
  JOIN spool_jobs AS cause ON cause.id = c.cause
WHERE spool_jobs.id = c.id AND spool_jobs.status = 'blocked'
RETURNING spool_jobs.id, spool_jobs.type, spool_jobs.workflow_id, spool_jobs.cancelled_by`;

/** Blocked dependents of finished jobs whose every dependency has finished. */
export const RELEASE_SQL = `UPDATE spool_jobs SET status = CASE WHEN run_at > :now THEN 'scheduled' ELSE 'pending' END
WHERE id IN (SELECT d.job_id FROM spool_settle s CROSS JOIN spool_dependencies d ON d.depends_on = s.id)
  AND status = 'blocked'
  AND NOT EXISTS (SELECT 1 FROM spool_dependencies w JOIN spool_jobs p ON p.id = w.depends_on
    WHERE w.job_id = spool_jobs.id AND p.finished_at IS NULL)
  AND (on_dependency_failure = 'run' OR NOT EXISTS (SELECT 1 FROM spool_dependencies w JOIN spool_jobs p ON p.id = w.depends_on
    WHERE w.job_id = spool_jobs.id AND (p.status = 'dead' OR p.status = 'cancelled')))
RETURNING id, type, workflow_id, status`;

const CLEAR_SQL = `DELETE FROM spool_settle`;

/** The three statements that settle the dependents of jobs finished earlier in the same batch. */
export function settleStatements(now: number): SqlStatement[] {
  return [
    { sql: CASCADE_SQL, args: { now } },
    { sql: RELEASE_SQL, args: { now } },
    CLEAR_SQL,
  ];
}

/**
 * The settling statements for a batch that may finish a job nobody was known
 * to wait for: they run only when the write at index `write` of the batch
 * returned a row whose `has_dependents` is set (`onlyIf`). A job can gain a
 * dependent while it runs; its finishing write returns the flag all the
 * same, and the dependents are settled in that very transaction. The three
 * statements on an empty spool_settle cost an eighth of a no-op job's
 * completion, and a look at the table as a statement of its own a twentieth.
 */
export function settleStatementsIfFlagged(now: number, write: number): SqlStatement[] {
  return settleStatements(now).map((statement) => ({
    ...(typeof statement === "string" ? { sql: statement } : statement),
    onlyIf: { at: write, column: "has_dependents" },
  }));
}

/** A dependent this batch released or cancelled, for the log. */
export interface SettledJob {
  id: string;
  type: string;
  workflowId: string | null;
  /** pending or scheduled when released; cancelled when a dependency failed. */
  status: "pending" | "scheduled" | "cancelled";
  /** For a cancelled one: the dependency whose failure cancelled it. */
  cause: string | null;
}

/** What the results of `settleStatements` (in order) say happened. */
export function settledJobs(cascade: QueryResult, release: QueryResult): SettledJob[] {
  const settled: SettledJob[] = [];
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  for (const r of cascade.rows) {
    settled.push({ id: String(r.id), type: String(r.type), workflowId: text(r.workflow_id), status: "cancelled", cause: text(r.cancelled_by) });
  }
  for (const r of release.rows) {
    settled.push({ id: String(r.id), type: String(r.type), workflowId: text(r.workflow_id), status: r.status as "pending" | "scheduled", cause: null });
  }
  return settled;
}

// After the insert just before it in the same batch: its row waits for these
// ids. changes() is 0 when that insert was dropped for an idempotency key, and
// then the job that holds the key keeps the dependencies it has.
const DEPEND_ON_IDS = `INSERT OR IGNORE INTO spool_dependencies (job_id, depends_on)
  SELECT last_insert_rowid(), value FROM json_each(:ids) WHERE changes() = 1`;
const FLAG_IDS = `UPDATE spool_jobs SET has_dependents = 1 WHERE id IN (SELECT value FROM json_each(:ids)) AND has_dependents IS NULL`;
// a dependency that already finished is settled in this same batch
const NOTE_FINISHED_IDS = `INSERT OR IGNORE INTO spool_settle (id)
  SELECT id FROM spool_jobs WHERE id IN (SELECT value FROM json_each(:ids)) AND finished_at IS NOT NULL`;

/** Statements that make the row inserted just before them wait for `ids` (all existing jobs). */
export function dependOnIdsStatements(ids: string[]): SqlStatement[] {
  const args = { ids: JSON.stringify(ids.map(Number)) };
  return [
    { sql: DEPEND_ON_IDS, args },
    { sql: FLAG_IDS, args },
    { sql: NOTE_FINISHED_IDS, args },
  ];
}

// Edges among the jobs one attempt staged, found by (parent_id, stage)
// through the parent index: [dependent's stage, dependency id | null, dependency's stage | null].
const DEPEND_STAGED = `INSERT OR IGNORE INTO spool_dependencies (job_id, depends_on)
  SELECT j.id, coalesce(e.value->>1, s.id)
  FROM json_each(:edges) AS e
    JOIN spool_jobs j ON j.parent_id = :parent AND j.stage = e.value->>0
    LEFT JOIN spool_jobs s ON s.parent_id = :parent AND s.stage = e.value->>2
  WHERE coalesce(e.value->>1, s.id) IS NOT NULL`;
const STAGED_DEPENDENCIES = `SELECT d.depends_on FROM spool_jobs j JOIN spool_dependencies d ON d.job_id = j.id
  WHERE j.parent_id = :parent AND j.stage IS NOT NULL`;
const FLAG_STAGED = `UPDATE spool_jobs SET has_dependents = 1 WHERE id IN (${STAGED_DEPENDENCIES}) AND has_dependents IS NULL`;
const NOTE_FINISHED_STAGED = `INSERT OR IGNORE INTO spool_settle (id)
  SELECT id FROM spool_jobs WHERE id IN (${STAGED_DEPENDENCIES}) AND finished_at IS NOT NULL`;

/** Statements that record the `after` edges of the jobs a parent staged, right after they were inserted. */
export function dependOnStagedStatements(parentId: string, children: Array<{ stage: number | null; after: Dependency[] | null }>): SqlStatement[] {
  const edges: Array<[number, number | null, number | null]> = [];
  for (const child of children) {
    if (child.after === null || child.stage === null) continue;
    for (const dependency of child.after) {
      edges.push("id" in dependency ? [child.stage, Number(dependency.id), null] : [child.stage, null, dependency.stage]);
    }
  }
  if (edges.length === 0) return [];
  const parent = Number(parentId);
  return [
    { sql: DEPEND_STAGED, args: { edges: JSON.stringify(edges), parent } },
    { sql: FLAG_STAGED, args: { parent } },
    { sql: NOTE_FINISHED_STAGED, args: { parent } },
  ];
}

const ANY_NOTED = `SELECT id FROM spool_settle LIMIT 1`;

/**
 * Settles dependents of noted jobs that no batch has settled (a safety net:
 * every batch that finishes jobs settles what it noted). Reads first, so an
 * idle pass takes no write lock.
 */
export async function settleLeftovers(db: Database, now: number): Promise<SettledJob[]> {
  if ((await db.execute(ANY_NOTED)).rows.length === 0) return [];
  const results = await db.batch(settleStatements(now), "write");
  return settledJobs(results[0]!, results[1]!);
}

const DESCRIBE_JOBS = `SELECT id, workflow_id FROM spool_jobs WHERE id IN (SELECT value FROM json_each(:ids))`;

/** The workflow of each existing job among `ids` (null for a plain job); ids not returned do not exist. */
export async function workflowsOfJobs(db: Database, ids: string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  if (ids.length === 0) return out;
  const result = await db.execute({ sql: DESCRIBE_JOBS, args: { ids: JSON.stringify(ids.map(Number)) } });
  for (const row of result.rows) out.set(String(row.id), row.workflow_id === null ? null : String(row.workflow_id));
  return out;
}

/** One `after` dependency as a fan-in handler reads it. */
export interface DependencyResult {
  id: string;
  type: string;
  status: string;
  result: unknown;
}

const DEPENDENCIES_OF = `SELECT j.id, j.type, j.status, j.result FROM spool_dependencies d JOIN spool_jobs j ON j.id = d.depends_on
  WHERE d.job_id = :id ORDER BY j.id`;

/** The `after` jobs of a job, by id, with their results. */
export async function dependenciesOf(db: Database, id: string): Promise<DependencyResult[]> {
  const result = await db.execute({ sql: DEPENDENCIES_OF, args: { id: Number(id) } });
  return result.rows.map((r) => ({
    id: String(r.id),
    type: String(r.type),
    status: String(r.status),
    result: r.result === null || r.result === undefined ? null : JSON.parse(String(r.result)),
  }));
}
