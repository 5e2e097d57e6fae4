/**
 * Per-type global limits, stored so that every worker's claim enforces the
 * same numbers. The last process to define a type sets them.
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
