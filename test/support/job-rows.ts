/**
 * Test support for store tests: new jobs' rows as the store takes them.
 */
import type { NewJobRow, NewJobRun } from "../../src/core/job.ts";

/** A pending job of type "t" in the default queue, with `changes` over those values. */
export function jobRow(changes: Partial<NewJobRow> = {}): NewJobRow {
  return {
    type: "t", queue: "default", payload: "{}", status: "pending", priority: 0, maxAttempts: 3, runAt: 1000, createdAt: 1000,
    timeoutMs: null, backoff: null, idempotencyKey: null, idempotencyWindowMs: 60_000, workflowId: null, parentId: null,
    scheduleName: null, scheduledFor: null, after: null, optional: false, onDependencyFailure: null, stage: null, ...changes,
  };
}

/** Each row as a run of its own, for `Store.insertJobs`. */
export function runsOf(rows: NewJobRow[]): NewJobRun[] {
  return rows.map((row) => ({ row, payloads: [row.payload] }));
}
