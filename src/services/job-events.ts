/**
 * Turns a written outcome into the events it means, in order: `completed`;
 * `failed` then `dead` for a last failed attempt; `lease_expired`, `failed`
 * (and `dead`) for a lease the reaper recovered; `cancelled`. Called only
 * after the completer's write of the outcome committed and found the lease
 * still held, so each transition fires once, in the process that made it.
 */
import type { EventSink } from "../core/events.ts";
import type { ClaimedJob, Job } from "../core/job.ts";
import type { Outcome } from "../store/store.ts";

/** The job as it is after `outcome`. */
function after(job: ClaimedJob, outcome: Outcome): Job {
  const finished = outcome.status === "completed" || outcome.status === "dead" || outcome.status === "cancelled";
  return {
    ...job,
    status: outcome.status,
    runAt: outcome.runAt ?? job.runAt,
    finishedAt: finished ? outcome.finishedAt : null,
    lastError: outcome.error ?? job.lastError,
  };
}

/** Emits the events of an attempt's written outcome; `error` is what the handler threw (null when it succeeded). */
export function emitOutcome(events: EventSink, job: ClaimedJob, outcome: Outcome, error: Error | null): void {
  if (outcome.status === "pending") return;
  const done = after(job, outcome);
  if (outcome.status === "completed") {
    events.emit("completed", { job: done, durationMs: outcome.finishedAt - (job.startedAt ?? outcome.finishedAt) });
    if (outcome.children && outcome.children.length > 0 && events.has("staged")) {
      events.emitStaged({ parentId: job.id, jobs: outcome.children.map((c) => ({ type: c.type, queue: c.queue })) });
    }
    return;
  }
  if (outcome.status === "cancelled") {
    events.emit("cancelled", { job: done });
    return;
  }
  const failure = error ?? new Error(outcome.error ?? "attempt failed");
  if (outcome.outcome === "lease_expired") events.emit("lease_expired", { job: done, willRetry: outcome.status === "scheduled" });
  events.emit("failed", { job: done, error: failure, willRetry: outcome.status === "scheduled", retryAt: outcome.runAt });
  if (outcome.status === "dead") events.emit("dead", { job: done, error: failure });
}
