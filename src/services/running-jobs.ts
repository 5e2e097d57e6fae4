/**
 * The attempts running in this process: the one owner of their state. The
 * executor adds and removes them, the heartbeat renews their leases and stops
 * the ones whose lease is lost or that an operator cancelled, the reaper skips
 * leases still held here, and the facade stops one on cancel. None of them
 * reaches into another to do it.
 */
import { SpoolError } from "../core/errors.ts";
import type { ClaimedJob } from "../core/job.ts";

/** Why a running attempt's signal was aborted. */
export type StopReason = "timed_out" | "lease_lost" | "cancelled" | "shutdown";

/** One attempt in progress, as the registry holds it. */
export interface RunningJob {
  job: ClaimedJob;
  /** Made on first use of ctx.signal: most handlers never read it, and a controller per job showed in profiles. */
  controller: AbortController | null;
  stopReason: StopReason | null;
  stopError: SpoolError | null;
  /** Rejects the wait for the handler, so a handler that ignores its signal cannot hold the attempt. */
  interrupt: ((error: SpoolError) => void) | null;
  /**
   * The handler is done and the outcome is decided (and submitted, unless
   * none is written). A renewal that misses such a job raced the write of its
   * outcome: the lease is not lost, the job just left `running`.
   */
  settled: boolean;
}

/** The attempts running in one worker (or one drain), by job id; in memory only, empty at start. */
export class RunningJobs {
  readonly #entries = new Map<string, RunningJob>();

  /** Registers a claimed job as running here and returns its entry. */
  add(job: ClaimedJob): RunningJob {
    const entry: RunningJob = { job, controller: null, stopReason: null, stopError: null, interrupt: null, settled: false };
    this.#entries.set(job.id, entry);
    return entry;
  }

  /** Forgets an attempt whose outcome is written (or will never be). */
  delete(id: string): void {
    this.#entries.delete(id);
  }

  /** The entry of job `id`'s attempt, if it runs here. */
  get(id: string): RunningJob | undefined {
    return this.#entries.get(id);
  }

  /** Whether job `id` has an attempt running here. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** How many attempts run here now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Ids of every attempt running now. */
  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** The entries running now, in the order they started. */
  entries(): RunningJob[] {
    return [...this.#entries.values()];
  }

  /** True when an attempt in this process holds `job`'s lease (same job, same token). */
  holds(job: { id: string; leaseToken: string }): boolean {
    return this.#entries.get(job.id)?.job.leaseToken === job.leaseToken;
  }

  /**
   * Aborts a running attempt's signal; its outcome follows from `reason`. An
   * unknown id does nothing. A cancelled attempt is still waited for: its
   * lease is kept (and renewed) until the handler really ends, so the job
   * stays `running` and cannot be retried or claimed while its handler still
   * runs. A later stop (timeout, lost lease, shutdown) ends that wait, the
   * attempt still ending cancelled unless its lease was lost.
   */
  stop(id: string, reason: StopReason): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    if (entry.stopReason === "cancelled" && reason !== "cancelled") {
      if (reason === "lease_lost") entry.stopReason = reason;
      entry.interrupt?.(entry.stopError!);
      return;
    }
    if (entry.stopReason !== null) return;
    entry.stopReason = reason;
    const code = reason === "timed_out" ? "TIMED_OUT" : reason === "lease_lost" ? "LEASE_LOST" : "CLOSED";
    entry.stopError = new SpoolError(code, stopMessage(entry.job, reason));
    entry.controller?.abort(entry.stopError);
    if (reason !== "cancelled") entry.interrupt?.(entry.stopError);
  }
}

function stopMessage(job: ClaimedJob, reason: StopReason): string {
  switch (reason) {
    case "timed_out":
      return `job ${job.id} (${job.type}) timed out after ${job.timeoutMs} ms`;
    case "lease_lost":
      return `job ${job.id} (${job.type}) lost its lease`;
    case "cancelled":
      return `job ${job.id} (${job.type}) was cancelled`;
    case "shutdown":
      return `job ${job.id} (${job.type}) was interrupted by shutdown`;
  }
}
