/**
 * Test support: puts jobs straight into a finished status, as if they had
 * run, so that tests of bulk operations can have thousands without running them.
 */
import type { Spool } from "../../src/spool.ts";
import { storeOf } from "./internals.ts";

/** Marks `ids` (or every job, with "all") `status`, finished at `finishedAt`. */
export async function finishJobs(
  spool: Spool,
  ids: string[] | "all",
  status: "completed" | "dead" | "cancelled",
  finishedAt: number,
  lastError: string | null = status === "dead" ? "boom" : null,
): Promise<void> {
  await storeOf(spool).db.execute({
    sql: `UPDATE spool_jobs SET status = :status, finished_at = :finishedAt, last_error = :lastError,
      attempts = CASE WHEN :status = 'dead' THEN max_attempts ELSE attempts END
      WHERE :all = 1 OR id IN (SELECT value FROM json_each(:ids))`,
    args: { status, finishedAt, lastError, all: ids === "all" ? 1 : 0, ids: JSON.stringify(ids === "all" ? [] : ids.map(Number)) },
  });
}

/** Enqueues `count` jobs of `type` with payloads `{ i }` in one transaction; returns their ids. */
export async function enqueueJobs(spool: Spool, count: number, type = "t", options?: Record<string, unknown>): Promise<string[]> {
  const items = Array.from({ length: count }, (_, i) => ({ type, payload: { i }, options }));
  return (await spool.enqueueMany(items)).map((r) => r.id);
}
