/**
 * The reaper returns jobs whose lease ran out (their worker died or hung) to
 * the retry path with outcome `lease_expired`, to `dead` when no attempts are
 * left, or to `cancelled` when an operator had asked to cancel it. Its write
 * is conditional on the same lease token and on the lease still being
 * expired, so exactly one reaper acts on a lease, however many processes run
 * one, and a worker that renewed in time keeps its job. Each pass also
 * settles the dependents of jobs that gained them while running
 * (dependencies.ts), when no batch has since.
 * It also applies retention: completed jobs older than `retentionMs` are
 * deleted in batches of at most 1,000 rows a statement, yielding between
 * batches, so a million old jobs never hold the write lock for long.
 */
import { retryDelay } from "../core/backoff.ts";
import type { Clock } from "../core/clock.ts";
import type { EventSink } from "../core/events.ts";
import type { ClaimedJob } from "../core/job.ts";
import type { JobTypes } from "../core/job-types.ts";
import type { Logger } from "../core/logger.ts";
import { leaseExpired } from "../core/transitions.ts";
import type { Store } from "../store/store.ts";
import type { Completer } from "./completer.ts";
import { emitOutcome } from "./job-events.ts";
import { CLOCK, LOGGER, checkDependencies, storeWith } from "./dependencies-check.ts";
import { type ServiceHealth, ServiceLoop } from "./loop.ts";

export interface ReaperOptions {
  store: Store;
  completer: Completer;
  types: JobTypes;
  clock: Clock;
  logger: Logger;
  leaseMs: number;
  random?: () => number;
  /**
   * The leases attempts in this very process still hold (a RunningJobs). Such
   * a lease only ran out because renewing it failed (the database was down);
   * the heartbeat renews it once the database answers, so the reaper leaves
   * it. Absent: no lease is held here.
   */
  running?: { holds(job: ClaimedJob): boolean };
  /** Told of every lease it recovers. */
  events?: EventSink;
  /** Completed jobs older than this are deleted; 0 keeps them. Default 7 days. */
  retentionMs?: number;
}

const BATCH = 100;

/** Default retention of completed jobs: 7 days. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
// Retention looks for old jobs at most this often: a pass that finds none
// still reads the head of each type's completed jobs.
const RETENTION_EVERY_MS = 30_000;

export class Reaper {
  readonly #options: ReaperOptions;
  readonly #loop: ServiceLoop;
  #retainedAt = -Infinity;

  /** Throws INVALID_OPTIONS (a SpoolError) naming a missing or mistyped dependency. */
  constructor(options: ReaperOptions) {
    checkDependencies(
      "reaper",
      options,
      { store: storeWith("findExpiredLeases", "settleLeftovers"), completer: { methods: ["submit"] }, types: { methods: ["options"] }, clock: CLOCK, logger: LOGGER },
      { running: { methods: ["holds"] }, random: "function" },
    );
    this.#options = options;
    this.#loop = new ServiceLoop({ name: "reaper", clock: options.clock, logger: options.logger, runOnce: (now) => this.runOnce(now) });
  }

  get intervalMs(): number {
    return Math.min(5000, Math.max(100, Math.floor(this.#options.leaseMs / 4)));
  }

  start(): void {
    this.#loop.start();
  }

  /** Whether this service's passes are failing now, since when, and the last error. */
  get health(): ServiceHealth {
    return this.#loop.health;
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Recovers up to one batch of expired leases; returns the ms until the next pass. */
  async runOnce(now: number): Promise<number> {
    const { store, completer, types, logger } = this.#options;
    const found = await store.findExpiredLeases(now, BATCH);
    const expired = this.#options.running ? found.filter((job) => !this.#options.running!.holds(job)) : found;
    const writes: Array<Promise<boolean>> = [];
    for (const job of expired) {
      const error = `lease expired: worker ${job.workerId ?? "unknown"} stopped renewing it (crashed, hung or partitioned)`;
      // cancelled while running, and its worker went away before the attempt ended
      const retryAt = job.cancelRequested || job.attempts >= job.maxAttempts
        ? null
        : now + retryDelay(job.backoffJson, types.options(job.type)?.backoff, job.attempts, new Error(error), this.#options.random);
      const outcome = leaseExpired(job, now, retryAt, error, job.cancelRequested);
      writes.push(
        completer.submit(outcome).then((written) => {
          if (written) logger.warn("recovered a job whose lease expired", { jobId: job.id, type: job.type, attempt: job.attempts, status: outcome.status });
          if (written && this.#options.events) emitOutcome(this.#options.events, job, outcome, null);
          return written;
        }),
      );
    }
    await Promise.all(writes);
    // a safety net: every batch that finishes a job settles what it noted, so this finds nothing unless a write was cut short
    for (const job of await store.settleLeftovers(now)) {
      const fields = { workflowId: job.workflowId, jobId: job.id, type: job.type, status: job.status };
      if (job.status === "cancelled") logger.warn("dependent cancelled: a dependency failed", { ...fields, dependencyId: job.cause });
      else logger.info("dependent released", fields);
      this.#options.events?.emitSettled(job);
    }
    if (now - this.#retainedAt >= RETENTION_EVERY_MS) {
      this.#retainedAt = now;
      await this.retainOnce(now);
    }
    // leases held here are skipped, not recovered: looping at once would only find them again
    return expired.length === BATCH ? 0 : this.intervalMs;
  }

  /**
   * Deletes completed jobs that finished `retentionMs` or more before `now`,
   * except jobs of a workflow that is still unfinished: each statement at
   * most 1,000 rows, with a turn of the event loop between statements, so
   * the worker's own writes go on meanwhile. Returns the rows each statement
   * deleted.
   */
  async retainOnce(now: number): Promise<number[]> {
    const { store, clock, retentionMs = DEFAULT_RETENTION_MS } = this.#options;
    const batches: number[] = [];
    if (retentionMs === 0) return batches;
    const cutoff = now - retentionMs;
    for (const type of await store.completedTypes()) {
      let after: number | null = 0;
      while (after !== null) {
        const { deleted, next } = await store.deleteCompletedBatch(type, cutoff, after);
        if (deleted > 0 || next !== null) batches.push(deleted);
        after = next;
        await clock.sleep(0);
      }
    }
    const deleted = batches.reduce((a, b) => a + b, 0);
    if (deleted > 0) this.#options.logger.info("retention deleted completed jobs", { deleted, statements: batches.length, olderThanMs: retentionMs });
    return batches;
  }
}
