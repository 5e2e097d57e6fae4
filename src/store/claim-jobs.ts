/**
 * The claim: one statement that takes up to `limit` ready jobs in priority,
 * run-time, id order and leases them to this worker. Global per-type limits
 * are decided in the same statement, so they hold across every process.
 */
import type { ClaimedJob } from "../core/job.ts";
import type { Database } from "./database.ts";
import type { QueryResult, Row, SqlStatement } from "./file-connection.ts";
import { CLAIMED_COLUMNS, claimedRowToJob } from "./job-row.ts";

// Each claimed row comes back as one JSON array: the driver turns every
// returned value into a JavaScript value one by one, which cost more per row
// than JSON.parse of the same values as one string.
const CLAIMED_COLUMN_LIST = [...CLAIMED_COLUMNS.split(",").map((c) => c.trim()), "effective_priority"];

// How far down the ready index one claim looks. A type at its limit is skipped
// entirely, so this only bounds how many jobs of a type that still has room
// are passed over in one pass; it keeps the claim's cost flat at any depth.
const SCAN_FACTOR = 4;
const SCAN_EXTRA = 32;

const CLAIM = `
WITH
  room AS (
    SELECT l.type, min(
      coalesce(l.concurrency - (SELECT count(*) FROM spool_jobs r WHERE r.status = 'running' AND r.type = l.type), 1e18),
      coalesce(l.rate_limit - (SELECT count(*) FROM spool_job_starts s WHERE s.type = l.type AND s.started_at > :now - l.rate_interval_ms), 1e18)
    ) AS free
    FROM spool_type_limits l
  ),
  candidates AS (
    SELECT id, type, effective_priority, run_at FROM spool_jobs INDEXED BY spool_jobs_ready
    WHERE status = 'pending'
      AND queue NOT IN (SELECT name FROM spool_queues WHERE paused = 1)
      AND type NOT IN (SELECT type FROM room WHERE free <= 0)
      AND (:queues IS NULL OR queue IN (SELECT value FROM json_each(:queues)))
    ORDER BY effective_priority DESC, run_at, id
    -- look further only when some type has a limit that may pass jobs over
    LIMIT CASE WHEN EXISTS (SELECT 1 FROM room) THEN :scan ELSE :limit END
  ),
  picked AS (
    SELECT id FROM (
      SELECT c.id, c.effective_priority, c.run_at, room.free,
        row_number() OVER (PARTITION BY c.type ORDER BY c.effective_priority DESC, c.run_at, c.id) AS nth
      FROM candidates c LEFT JOIN room ON room.type = c.type
    )
    WHERE free IS NULL OR nth <= free
    ORDER BY effective_priority DESC, run_at, id
    LIMIT :limit
  )
UPDATE spool_jobs
SET status = 'running', attempts = attempts + 1, started_at = :now, lease_token = :token,
    lease_expires_at = :expires, worker_id = :worker
WHERE id IN (SELECT id FROM picked)
RETURNING json_array(${CLAIMED_COLUMN_LIST.join(", ")}) AS job`;

export interface ClaimRequest {
  limit: number;
  /** Only these queues; null for every queue. */
  queues: string[] | null;
  workerId: string;
  token: string;
  now: number;
  leaseMs: number;
}

/** Claims up to `limit` jobs; returns them in the order they should start. */
export async function claimJobs(db: Database, request: ClaimRequest): Promise<ClaimedJob[]> {
  if (request.limit <= 0) return [];
  return claimedJobs(await db.execute(claimStatement(request)), request);
}

/** The claim as a statement, for a batch that writes outcomes first (complete-and-claim.ts). */
export function claimStatement(request: ClaimRequest): SqlStatement {
  return {
    sql: CLAIM,
    args: {
      now: request.now,
      expires: request.now + request.leaseMs,
      token: request.token,
      worker: request.workerId,
      limit: request.limit,
      scan: request.limit * SCAN_FACTOR + SCAN_EXTRA,
      queues: request.queues === null ? null : JSON.stringify(request.queues),
    },
  };
}

/** The claimed jobs in the order they should start (RETURNING has no order of its own). */
export function claimedJobs(result: QueryResult, request: ClaimRequest): ClaimedJob[] {
  const lease = { token: request.token, expiresAt: request.now + request.leaseMs, startedAt: request.now, workerId: request.workerId };
  const rows = result.rows.map((returned) => {
    const values = JSON.parse(returned.job as string) as unknown[];
    const row: Row = {};
    CLAIMED_COLUMN_LIST.forEach((column, i) => (row[column] = values[i]));
    return row;
  });
  rows.sort(
    (a, b) =>
      Number(b.effective_priority) - Number(a.effective_priority) ||
      Number(a.run_at) - Number(b.run_at) ||
      Number(a.id) - Number(b.id),
  );
  return rows.map((row) => claimedRowToJob(row, lease));
}

export const CLAIM_SQL_FOR_PLAN = CLAIM;
