/**
 * The claim: one statement that takes up to `limit` ready jobs in priority,
 * run-time, id order and leases them to this worker. Global per-type limits
 * are decided in the same statement, so they hold across every process.
 */
import type { ClaimedJob } from "../core/job.ts";
import type { Database } from "./database.ts";
import type { QueryResult, Row, SqlStatement } from "./connection.ts";
import { DEFAULT_MAX_ATTEMPTS } from "../core/options.ts";
import { CLAIMED_COLUMNS, claimedRowToJob } from "./job-row.ts";
import { ROOM_PER_LIMITED_TYPE } from "./type-limits.ts";

// Each claimed row comes back as one JSON array: the driver turns every
// returned value into a JavaScript value one by one, which cost more per row
// than JSON.parse of the same values as one string.
const CLAIMED_COLUMN_LIST = [...CLAIMED_COLUMNS.split(",").map((c) => c.trim()), "effective_priority"];

// Each served type gets its own probe down the ready index (type first), so
// the claim's cost depends on the types this worker defines and the jobs it
// takes, never on pending jobs of other types. A type at its limit gets no
// probe; a probe takes at most :limit jobs, all a claim could start of it.
// :types is a JSON object { type: [maxAttempts, timeoutMs] } of the worker's
// definitions; a claimed job takes those options it was enqueued without
// (options_from_type bits 1 and 2), or the built-in defaults.
const CLAIM = `
WITH
  room AS (${ROOM_PER_LIMITED_TYPE}),
  served AS (
    SELECT key AS type FROM json_each(:types)
    WHERE key NOT IN (SELECT type FROM room WHERE free <= 0)
  ),
  candidates AS (
    SELECT j.id, j.type, j.effective_priority, j.run_at FROM served, spool_jobs j
    WHERE j.id IN (
      SELECT p.id FROM spool_jobs p INDEXED BY spool_jobs_ready
      WHERE p.status = 'pending' AND p.type = served.type
        AND p.queue NOT IN (SELECT name FROM spool_queues WHERE paused = 1)
        AND (:queues IS NULL OR p.queue IN (SELECT value FROM json_each(:queues)))
      ORDER BY p.effective_priority DESC, p.run_at, p.id
      LIMIT :limit
    )
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
    lease_expires_at = :expires, worker_id = :worker,
    max_attempts = CASE WHEN options_from_type & 1 THEN coalesce(:types -> type ->> 0, ${DEFAULT_MAX_ATTEMPTS}) ELSE max_attempts END,
    timeout_ms = CASE WHEN options_from_type & 2 THEN :types -> type ->> 1 ELSE timeout_ms END
WHERE id IN (SELECT id FROM picked)
RETURNING json_array(${CLAIMED_COLUMN_LIST.join(", ")}) AS job`;

/** The options a worker's definition of a type gives the jobs it claims; unset ones fall back to the defaults. */
export interface ServedType {
  maxAttempts?: number;
  timeoutMs?: number;
}

export interface ClaimRequest {
  limit: number;
  /** The types this worker defines, by name; only jobs of these are claimed. */
  types: ReadonlyMap<string, ServedType>;
  /** Only these queues; null for every queue. */
  queues: string[] | null;
  workerId: string;
  token: string;
  now: number;
  leaseMs: number;
}

/** Claims up to `limit` jobs; returns them in the order they should start. */
export async function claimJobs(db: Database, request: ClaimRequest): Promise<ClaimedJob[]> {
  if (request.limit <= 0 || request.types.size === 0) return [];
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
      types: servedTypesJson(request.types),
      queues: request.queues === null ? null : JSON.stringify(request.queues),
    },
  };
}

const servedJson = new WeakMap<ReadonlyMap<string, ServedType>, string>();

/** A worker's definitions as the claim reads them; kept per map, as a worker claims with the same one each time. */
function servedTypesJson(types: ReadonlyMap<string, ServedType>): string {
  let text = servedJson.get(types);
  if (text === undefined) {
    const object: Record<string, [number | null, number | null]> = {};
    for (const [type, options] of types) object[type] = [options.maxAttempts ?? null, options.timeoutMs ?? null];
    text = JSON.stringify(object);
    servedJson.set(types, text);
  }
  return text;
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
