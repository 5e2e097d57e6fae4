/**
 * Workflows: the spool_workflows row of each (its status and counts, kept by
 * triggers in the statements that move its jobs, schema.ts migration 5), its
 * jobs with their `after` edges, and the operator's cancel and retry.
 */
import type { Job } from "../core/job.ts";
import type { Database } from "./database.ts";
import { settleStatements } from "./dependencies.ts";
import { JOB_COLUMNS, rowToJob } from "./job-row.ts";
import type { Row } from "./connection.ts";

import type { WorkflowStatus } from "../core/workflow-status.ts";

export type { WorkflowStatus };

/** Counts of a workflow's jobs. (A type, not an interface: a workflow is then also a counts-by-name record, as the CLI's tree draws it.) */
export type WorkflowCounts = {
  jobs: number;
  blocked: number;
  scheduled: number;
  pending: number;
  running: number;
  completed: number;
  dead: number;
  cancelled: number;
  /** ctx.warn messages recorded by its jobs, over every attempt. */
  warnings: number;
};

/** A workflow as `listWorkflows` returns it. Times are epoch ms. */
export interface WorkflowSummary {
  id: string;
  /** The type of its first job. */
  type: string;
  status: WorkflowStatus;
  createdAt: number;
  /** When its last job finished; null while running. */
  finishedAt: number | null;
  counts: WorkflowCounts;
}

/** One job of a workflow, enough to draw the graph. */
export interface WorkflowJob {
  id: string;
  type: string;
  status: Job["status"];
  parentId: string | null;
  /** Ids of the jobs it waits (or waited) for. */
  after: string[];
  attempts: number;
  result: unknown;
  lastError: string | null;
  warnings: string[];
  optional: boolean;
}

/** A workflow as `getWorkflow` returns it: the summary and every job, by id. */
export interface Workflow extends WorkflowSummary {
  jobs: WorkflowJob[];
}

export interface WorkflowPage {
  workflows: WorkflowSummary[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

const WORKFLOW_COLUMNS = `seq, id, type, status, created_at, finished_at, jobs, blocked, scheduled, pending, running,
  completed, dead, cancelled, warnings`;

const BY_ID = `SELECT ${WORKFLOW_COLUMNS} FROM spool_workflows WHERE id = :id`;
const JOBS_OF = `SELECT ${JOB_COLUMNS} FROM spool_jobs INDEXED BY spool_jobs_workflow WHERE workflow_id = :id ORDER BY id`;
const EDGES_OF = `SELECT d.job_id, d.depends_on FROM spool_jobs j INDEXED BY spool_jobs_workflow
  JOIN spool_dependencies d ON d.job_id = j.id WHERE j.workflow_id = :id ORDER BY d.job_id, d.depends_on`;

// Newest first by the table's own order; every filter has its index.
const pageSql = (status: boolean, type: boolean) => {
  const index = status ? "spool_workflows_by_status" : type ? "spool_workflows_by_type" : null;
  const where = [status ? "status = :status" : null, type ? "type = :type" : null, "seq < :before"].filter(Boolean).join(" AND ");
  return `SELECT ${WORKFLOW_COLUMNS} FROM spool_workflows${index ? ` INDEXED BY ${index}` : ""} WHERE ${where} ORDER BY seq DESC LIMIT :limit`;
};
export const WORKFLOW_PAGE_SQL = {
  all: pageSql(false, false),
  status: pageSql(true, false),
  type: pageSql(false, true),
  statusAndType: pageSql(true, true),
};

function summaryOf(row: Row): WorkflowSummary {
  return {
    id: String(row.id),
    type: String(row.type),
    status: row.status as WorkflowStatus,
    createdAt: Number(row.created_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    counts: {
      jobs: Number(row.jobs),
      blocked: Number(row.blocked),
      scheduled: Number(row.scheduled),
      pending: Number(row.pending),
      running: Number(row.running),
      completed: Number(row.completed),
      dead: Number(row.dead),
      cancelled: Number(row.cancelled),
      warnings: Number(row.warnings),
    },
  };
}

/** The workflow with its jobs, or null. */
export async function getWorkflow(db: Database, id: string): Promise<Workflow | null> {
  const [workflow, jobs, edges] = await db.batch(
    [
      { sql: BY_ID, args: { id } },
      { sql: JOBS_OF, args: { id } },
      { sql: EDGES_OF, args: { id } },
    ],
    "read",
  );
  const row = workflow!.rows[0];
  if (!row) return null;
  const after = new Map<string, string[]>();
  for (const edge of edges!.rows) {
    const list = after.get(String(edge.job_id)) ?? [];
    list.push(String(edge.depends_on));
    after.set(String(edge.job_id), list);
  }
  return {
    ...summaryOf(row),
    jobs: jobs!.rows.map((r) => {
      const job = rowToJob(r);
      return {
        id: job.id,
        type: job.type,
        status: job.status,
        parentId: job.parentId,
        after: after.get(job.id) ?? [],
        attempts: job.attempts,
        result: job.result,
        lastError: job.lastError,
        warnings: job.warnings,
        optional: job.optional,
      };
    }),
  };
}

/** A page of workflows, newest first. */
export async function listWorkflows(
  db: Database,
  query: { status?: WorkflowStatus; type?: string; limit: number; cursor?: string },
): Promise<WorkflowPage> {
  const sql =
    query.status && query.type ? WORKFLOW_PAGE_SQL.statusAndType
    : query.status ? WORKFLOW_PAGE_SQL.status
    : query.type ? WORKFLOW_PAGE_SQL.type
    : WORKFLOW_PAGE_SQL.all;
  const args: Record<string, unknown> = { before: query.cursor ? Number(query.cursor) : Number.MAX_SAFE_INTEGER, limit: query.limit + 1 };
  if (query.status) args.status = query.status;
  if (query.type) args.type = query.type;
  const result = await db.execute({ sql, args });
  const rows = result.rows.slice(0, query.limit);
  const more = result.rows.length > query.limit;
  return { workflows: rows.map(summaryOf), nextCursor: more ? String(rows[rows.length - 1]!.seq) : null };
}

export type WorkflowActionResult =
  | { ok: true; jobs: number; running: string[] }
  | { ok: false; reason: "not_found" }
  | { ok: false; reason: "conflict"; status: WorkflowStatus };

const STATUS_OF = `SELECT status FROM spool_workflows WHERE id = :id`;

// marked before its jobs move, while it still counts them as unfinished
const MARK_CANCELLED = `UPDATE spool_workflows SET cancel_requested = 1
  WHERE id = :id AND blocked + scheduled + pending + running > 0 RETURNING id`;
const CANCEL_WAITING = `UPDATE spool_jobs INDEXED BY spool_jobs_workflow SET status = 'cancelled', finished_at = :now,
  idempotency_until = CASE WHEN idempotency_held = 1 THEN :now + idempotency_window_ms ELSE NULL END
WHERE workflow_id = :id AND (status = 'blocked' OR status = 'scheduled' OR status = 'pending')
  AND EXISTS (SELECT 1 FROM spool_workflows WHERE id = :id AND cancel_requested = 1)
RETURNING id`;
const REQUEST_CANCEL_RUNNING = `UPDATE spool_jobs INDEXED BY spool_jobs_workflow SET cancel_requested = 1
WHERE workflow_id = :id AND status = 'running'
  AND EXISTS (SELECT 1 FROM spool_workflows WHERE id = :id AND cancel_requested = 1)
RETURNING id`;

async function explainMiss(db: Database, id: string): Promise<WorkflowActionResult> {
  const row = (await db.execute({ sql: STATUS_OF, args: { id } })).rows[0];
  return row ? { ok: false, reason: "conflict", status: row.status as WorkflowStatus } : { ok: false, reason: "not_found" };
}

/**
 * Cancels every unfinished job of a running workflow in one transaction:
 * blocked, scheduled and pending ones at once, running ones flagged (their
 * workers stop them; what they stage is discarded). Returns the running ids.
 */
export async function cancelWorkflow(db: Database, id: string, now: number): Promise<WorkflowActionResult> {
  const results = await db.batch(
    [
      { sql: MARK_CANCELLED, args: { id } },
      { sql: CANCEL_WAITING, args: { id, now } },
      { sql: REQUEST_CANCEL_RUNNING, args: { id } },
      ...settleStatements(now),
    ],
    "write",
  );
  if (results[0]!.rows.length === 0) return explainMiss(db, id);
  const running = results[2]!.rows.map((r) => String(r.id));
  return { ok: true, jobs: results[1]!.rows.length + running.length, running };
}

// Jobs cancelled because a dead job of the workflow failed, and theirs in
// turn, wait again (blocked) for the dead jobs, which go back to pending.
const REVIVE = `WITH RECURSIVE revived(id) AS (
    SELECT d.job_id FROM spool_jobs r INDEXED BY spool_jobs_workflow
      CROSS JOIN spool_dependencies d ON d.depends_on = r.id
      CROSS JOIN spool_jobs j ON j.id = d.job_id
    WHERE r.workflow_id = :id AND r.status = 'dead' AND j.status = 'cancelled' AND j.cancelled_by IS NOT NULL
    UNION
    SELECT d.job_id FROM revived
      CROSS JOIN spool_dependencies d ON d.depends_on = revived.id
      CROSS JOIN spool_jobs j ON j.id = d.job_id
    WHERE j.status = 'cancelled' AND j.cancelled_by IS NOT NULL
  )
UPDATE spool_jobs SET status = 'blocked', finished_at = NULL, cancelled_by = NULL, last_error = NULL, idempotency_until = NULL
WHERE id IN (SELECT id FROM revived) AND status = 'cancelled'
RETURNING id`;
const REPLAY_DEAD = `UPDATE spool_jobs INDEXED BY spool_jobs_workflow SET status = 'pending', attempts = 0, finished_at = NULL,
  run_at = :now, lease_token = NULL, cancel_requested = 0, effective_priority = priority, idempotency_until = NULL
WHERE workflow_id = :id AND status = 'dead'
RETURNING id`;

/**
 * Sends a workflow's dead jobs back to pending and the jobs cancelled because
 * of them back to blocked, in one transaction. A conflict when it has no dead job.
 */
export async function retryWorkflow(db: Database, id: string, now: number): Promise<WorkflowActionResult> {
  const results = await db.batch(
    [
      { sql: REVIVE, args: { id } },
      { sql: REPLAY_DEAD, args: { id, now } },
    ],
    "write",
  );
  const replayed = results[1]!.rows.length;
  if (replayed === 0) return explainMiss(db, id);
  return { ok: true, jobs: replayed + results[0]!.rows.length, running: [] };
}
