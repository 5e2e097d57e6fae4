/**
 * The claim: one statement that takes up to `limit` ready jobs in priority,
 * run-time, id order and leases them to this worker. Global per-type limits
 * are decided in the same statement, so they hold across every process.
 */
import type { ClaimedJob } from "../core/job.ts";
import type { Database } from "./database.ts";
import type { QueryResult, SqlStatement } from "./connection.ts";
import { DEFAULT_MAX_ATTEMPTS } from "../core/options.ts";
import { CLAIMED_COLUMN_NAMES, type ClaimedValues, byStartOrder, claimedValuesToJob } from "./job-row.ts";
import { ROOM_PER_LIMITED_TYPE } from "./type-limits.ts";

// Each claimed row comes back as one JSON array: the driver turns every
// returned value into a JavaScript value one by one, which cost more per row
// than JSON.parse of the same values as one string.
const CLAIMED_JSON = `json_array(${CLAIMED_COLUMN_NAMES.join(", ")})`;

// Each served type gets its own probe down the ready index (type first), so
// the claim's cost depends on the types this worker defines and the jobs it
// takes, never on pending jobs of other types. A type at its limit gets no
// probe; a probe takes at most :limit jobs, all a claim could start of it.
// Only limited types' candidates go through the window that keeps each
// within its room: ranking every candidate cost a sixth of the claim when no
// type has a limit, the usual case.
const CANDIDATES_AND_PICKED = `
  room AS (${ROOM_PER_LIMITED_TYPE}),
  served AS (
    SELECT key AS type, room.free FROM json_each(:types) LEFT JOIN room ON room.type = key
    WHERE room.free IS NULL OR room.free > 0
  ),
  candidates AS (
    SELECT j.id, j.type, j.effective_priority, j.run_at, served.free FROM served, spool_jobs j
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
      SELECT id, effective_priority, run_at FROM candidates WHERE free IS NULL
      UNION ALL
      SELECT id, effective_priority, run_at FROM (
        SELECT id, effective_priority, run_at, free,
          row_number() OVER (PARTITION BY type ORDER BY effective_priority DESC, run_at, id) AS nth
        FROM candidates WHERE free IS NOT NULL
      ) WHERE nth <= free
    )
    ORDER BY effective_priority DESC, run_at, id
    LIMIT :limit
  )`;

// A claimed job takes the options it was enqueued without
// (options_from_type bits 1 and 2) from the worker's definition of its type,
// or the built-in defaults. When every served type gives the same two values
// (one type, or none of them set), they are bound as :max_attempts and
// :timeout_ms; otherwise :types, a JSON object { type: [maxAttempts,
// timeoutMs] }, is read per row, which cost a tenth of the claim.
const TAKE_SHARED_OPTIONS = `
    max_attempts = CASE WHEN options_from_type & 1 THEN :max_attempts ELSE max_attempts END,
    timeout_ms = CASE WHEN options_from_type & 2 THEN :timeout_ms ELSE timeout_ms END`;
const TAKE_OPTIONS_BY_TYPE = `
    max_attempts = CASE WHEN options_from_type & 1 THEN coalesce(:types -> type ->> 0, ${DEFAULT_MAX_ATTEMPTS}) ELSE max_attempts END,
    timeout_ms = CASE WHEN options_from_type & 2 THEN :types -> type ->> 1 ELSE timeout_ms END`;

const claimSql = (takeOptions: string) => `
WITH ${CANDIDATES_AND_PICKED}
UPDATE spool_jobs
SET status = 'running', attempts = attempts + 1, started_at = :now, lease_token = :token,
    lease_expires_at = :expires, worker_id = :worker,${takeOptions}
WHERE id IN (SELECT id FROM picked)
RETURNING ${CLAIMED_JSON} AS job`;

const CLAIM_SHARED_OPTIONS = claimSql(TAKE_SHARED_OPTIONS);
const CLAIM_OPTIONS_BY_TYPE = claimSql(TAKE_OPTIONS_BY_TYPE);

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
  const served = servedTypes(request.types);
  const args: Record<string, unknown> = {
    now: request.now,
    expires: request.now + request.leaseMs,
    token: request.token,
    worker: request.workerId,
    limit: request.limit,
    types: served.json,
    queues: request.queues === null ? null : JSON.stringify(request.queues),
  };
  if (served.shared === null) return { sql: CLAIM_OPTIONS_BY_TYPE, args };
  args.max_attempts = served.shared.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  args.timeout_ms = served.shared.timeoutMs ?? null;
  return { sql: CLAIM_SHARED_OPTIONS, args };
}

interface ServedTypes {
  json: string;
  /** The options every served type gives alike, or null when they differ. */
  shared: ServedType | null;
}

const servedCache = new WeakMap<ReadonlyMap<string, ServedType>, ServedTypes>();

/** A worker's definitions as the claim reads them; kept per map, as a worker claims with the same one each time. */
function servedTypes(types: ReadonlyMap<string, ServedType>): ServedTypes {
  let served = servedCache.get(types);
  if (served === undefined) {
    const object: Record<string, [number | null, number | null]> = {};
    let shared: ServedType | null | undefined;
    for (const [type, options] of types) {
      object[type] = [options.maxAttempts ?? null, options.timeoutMs ?? null];
      if (shared === undefined) shared = { maxAttempts: options.maxAttempts, timeoutMs: options.timeoutMs };
      else if (shared !== null && (shared.maxAttempts !== options.maxAttempts || shared.timeoutMs !== options.timeoutMs)) shared = null;
    }
    served = { json: JSON.stringify(object), shared: shared ?? null };
    servedCache.set(types, served);
  }
  return served;
}

/** The claimed jobs in the order they should start (RETURNING has no order of its own). */
export function claimedJobs(result: QueryResult, request: ClaimRequest): ClaimedJob[] {
  const lease = { token: request.token, expiresAt: request.now + request.leaseMs, startedAt: request.now, workerId: request.workerId };
  const rows: ClaimedValues[] = [];
  for (const returned of result.rows) rows.push(JSON.parse(returned.job as string) as ClaimedValues);
  rows.sort(byStartOrder);
  const jobs: ClaimedJob[] = [];
  for (const values of rows) jobs.push(claimedValuesToJob(values, lease));
  return jobs;
}

/** Both forms of the claim, for tests that check their plans. */
export const CLAIM_SQL_FOR_PLAN = { sharedOptions: CLAIM_SHARED_OPTIONS, optionsByType: CLAIM_OPTIONS_BY_TYPE };
