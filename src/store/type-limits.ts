/**
 * Per-type global limits (a type's `concurrency` and `rateLimit`), stored so
 * that every worker's claim enforces the same numbers. The last process to
 * define a type sets them. The starts a rate limit counts are logged by the
 * `spool_record_start` trigger (schema.ts, migrations 1 and 2), only for
 * types with a rate limit.
 */
import type { RateLimit } from "../core/options.ts";
import type { Database } from "./database.ts";

const UPSERT = `INSERT INTO spool_type_limits (type, concurrency, rate_limit, rate_interval_ms)
  VALUES (:type, :concurrency, :rate, :interval)
  ON CONFLICT (type) DO UPDATE SET concurrency = excluded.concurrency, rate_limit = excluded.rate_limit,
    rate_interval_ms = excluded.rate_interval_ms`;

const REMOVE = `DELETE FROM spool_type_limits WHERE type = :type`;

export async function saveTypeLimits(
  db: Database,
  type: string,
  concurrency: number | undefined,
  rateLimit: RateLimit | undefined,
): Promise<void> {
  if (concurrency === undefined && rateLimit === undefined) {
    await db.execute({ sql: REMOVE, args: { type } });
    return;
  }
  await db.execute({
    sql: UPSERT,
    args: { type, concurrency: concurrency ?? null, rate: rateLimit?.limit ?? null, interval: rateLimit?.intervalMs ?? null },
  });
}

/**
 * The claim's view of the limits, as a query for a `WITH` clause: one row per
 * limited type with `free`, how many more of it may start at `:now` (the
 * smaller of its concurrency and its rate limit's room; 1e18 for no limit of
 * that kind). A type at 0 or below gets no probe in the claim.
 */
export const ROOM_PER_LIMITED_TYPE = `
    SELECT l.type, min(
      coalesce(l.concurrency - (SELECT count(*) FROM spool_jobs r WHERE r.status = 'running' AND r.type = l.type), 1e18),
      coalesce(l.rate_limit - (SELECT count(*) FROM spool_job_starts s WHERE s.type = l.type AND s.started_at > :now - l.rate_interval_ms), 1e18)
    ) AS free
    FROM spool_type_limits l
  `;
