/**
 * Lease renewal for running jobs and the lookup of leases that ran out.
 */
import type { ClaimedJob } from "../core/job.ts";
import type { Database } from "./database.ts";
import { JOB_COLUMNS, rowToClaimedJob } from "./job-row.ts";

const RENEW = `UPDATE spool_jobs NOT INDEXED SET lease_expires_at = :expires
FROM json_each(:leases) AS l
WHERE spool_jobs.id = l.value->>0 AND spool_jobs.lease_token = l.value->>1 AND spool_jobs.status = 'running'
RETURNING spool_jobs.id, spool_jobs.cancel_requested`;

export const EXPIRED_SQL = `SELECT ${JOB_COLUMNS}, cancel_requested FROM spool_jobs INDEXED BY spool_jobs_leases
WHERE status = 'running' AND lease_expires_at <= :now ORDER BY lease_expires_at LIMIT :limit`;

export interface RenewResult {
  /** Ids whose lease was extended; any other id given has lost its lease. */
  renewed: Set<string>;
  /** Renewed ids that an operator asked to cancel. */
  cancelRequested: Set<string>;
}

/** Extends the leases still held under their tokens. */
export async function renewLeases(
  db: Database,
  leases: Array<{ id: string; token: string }>,
  expiresAt: number,
): Promise<RenewResult> {
  const renewed = new Set<string>();
  const cancelRequested = new Set<string>();
  if (leases.length === 0) return { renewed, cancelRequested };
  const result = await db.execute({
    sql: RENEW,
    args: { expires: expiresAt, leases: JSON.stringify(leases.map((l) => [Number(l.id), l.token])) },
  });
  for (const row of result.rows) {
    renewed.add(String(row.id));
    if (Number(row.cancel_requested) === 1) cancelRequested.add(String(row.id));
  }
  return { renewed, cancelRequested };
}

/** A running job whose lease ran out, and whether an operator had asked to cancel it. */
export type ExpiredLease = ClaimedJob & { cancelRequested: boolean };

/** Running jobs whose lease ran out by `now`, oldest first. */
export async function findExpiredLeases(db: Database, now: number, limit: number): Promise<ExpiredLease[]> {
  const result = await db.execute({ sql: EXPIRED_SQL, args: { now, limit } });
  return result.rows.map((row) => Object.assign(rowToClaimedJob(row), { cancelRequested: Number(row.cancel_requested) === 1 }));
}
