/**
 * The completer: the only writer of attempt outcomes. Executors submit; the
 * completer writes everything that piled up since its last write in one batch,
 * so under load a worker costs one round trip per batch, not per job. When the
 * producer is about to claim (a finished job freed its slot), it lends the
 * queued outcomes to the claim (`withPendingOutcomes`), so both go in one
 * transaction; the completer still owns what happens to them. A failed write is retried with backoff
 * for as long as the worker runs: the store failing must not fail a job. Only
 * `abandon()` (a shutdown that cannot wait) gives unwritten outcomes up; their
 * jobs keep their leases until these expire, then the reaper runs them again.
 */
import type { Clock } from "../core/clock.ts";
import type { EventSink } from "../core/events.ts";
import type { Logger } from "../core/logger.ts";
import type { CompleteResult, Outcome, SettledJob, Store } from "../store/store.ts";
import { CLOCK, LOGGER, checkDependencies, storeWith } from "./dependencies-check.ts";
import { FailureTracker, type ServiceHealth } from "./loop.ts";

export interface CompleterOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Outcomes per write at most. Default 500. */
  maxBatch?: number;
  /** Told of the blocked jobs each committed batch released or cancelled. */
  events?: EventSink;
}

interface Pending {
  outcome: Outcome;
  resolve: (written: boolean) => void;
}

export class Completer {
  readonly #options: CompleterOptions;
  #queue: Pending[] = [];
  /** The flush loop, from the first unwritten outcome until the queue is empty. */
  #flushing: Promise<void> | null = null;
  /** The one write in progress; writes never overlap, so outcomes land in order. */
  #writing: Promise<unknown> | null = null;
  readonly #failures: FailureTracker;
  #abandoned = false;
  /** How many times a claim took queued outcomes along (see #flush). */
  #lent = 0;

  /** Throws INVALID_OPTIONS (a SpoolError) naming a missing or mistyped dependency. */
  constructor(options: CompleterOptions) {
    checkDependencies("completer", options, { store: storeWith("completeJobs"), clock: CLOCK, logger: LOGGER }, { maxBatch: "positive integer" });
    this.#options = options;
    this.#failures = new FailureTracker("completer", options.logger, "completer could not write outcomes; retrying");
  }

  /** Whether writes of outcomes are failing now, since when, and the last error. */
  get health(): ServiceHealth {
    return this.#failures.health;
  }

  /** Number of outcomes not yet written. */
  get backlog(): number {
    return this.#queue.length;
  }

  /** Queues an outcome; resolves true once written, false when its lease had been lost. */
  submit(outcome: Outcome): Promise<boolean> {
    return new Promise((resolve) => this.queue(outcome, resolve));
  }

  /**
   * The same as `submit` without a promise per outcome (the executor's path):
   * `written` is called once, with true once written or false when its lease
   * had been lost (or the outcome was abandoned).
   */
  queue(outcome: Outcome, written: (held: boolean) => void): void {
    this.#queue.push({ outcome, resolve: written });
    this.#flushing ??= this.#flush();
  }

  /** One write of everything queued now; the loop runs these until the queue is empty. */
  async runOnce(now: number): Promise<number> {
    while (this.#writing) await this.#writing;
    const batch = this.#queue.splice(0, this.#options.maxBatch ?? 500);
    if (batch.length === 0) return 0;
    await this.#write(batch, this.#options.store.completeJobs(batch.map((p) => p.outcome), now));
    return batch.length;
  }

  /**
   * Hands the outcomes queued now to `write`, which must write them in its
   * own transaction (the producer's claim does, so one commit carries both),
   * and resolves what it returns. With none queued, `write` gets an empty
   * list. Written outcomes resolve their submitters; if `write` throws, they
   * go back to the queue, to be written by the completer's own loop.
   */
  async withPendingOutcomes<T extends CompleteResult>(write: (outcomes: Outcome[]) => Promise<T>): Promise<T> {
    while (this.#writing) await this.#writing;
    const batch = this.#queue.splice(0, this.#options.maxBatch ?? 500);
    if (batch.length === 0) return write([]);
    this.#lent++;
    return this.#write(batch, write(batch.map((p) => p.outcome)));
  }

  async #write<T extends CompleteResult>(batch: Pending[], write: Promise<T>): Promise<T> {
    this.#writing = write;
    let result: T;
    try {
      result = await write;
    } catch (error) {
      this.#queue.unshift(...batch);
      this.#flushing ??= this.#flush();
      throw error;
    } finally {
      this.#writing = null;
    }
    // the write that ends a fault may be the producer's, not the flush loop's
    this.#failures.succeeded();
    if (result.settled.length > 0) this.#logSettled(result.settled);
    for (const pending of batch) pending.resolve(result.written.has(pending.outcome.id));
    return result;
  }

  #logSettled(settled: SettledJob[]): void {
    const { logger } = this.#options;
    for (const job of settled) {
      const fields = { workflowId: job.workflowId, jobId: job.id, type: job.type, status: job.status };
      if (job.status === "cancelled") logger.warn("dependent cancelled: a dependency failed", { ...fields, dependencyId: job.cause });
      else logger.info("dependent released", fields);
    }
    const { events, clock } = this.#options;
    // a turn later: after the events of the outcomes that settled them
    if (events) void clock.sleep(0).then(() => settled.forEach((job) => events.emitSettled(job)));
  }

  /** Resolves when everything submitted so far is written (or abandoned). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /** Gives up on unwritten outcomes (their leases will expire and the reaper recovers the jobs). */
  abandon(): void {
    this.#abandoned = true;
    for (const pending of this.#queue.splice(0)) pending.resolve(false);
  }

  async #flush(): Promise<void> {
    const { clock } = this.#options;
    let backoff = 50;
    try {
      while (this.#queue.length > 0 && !this.#abandoned) {
        // A producer about to claim takes the queued outcomes along, so one
        // commit carries both; writing them here first would cost a second
        // commit, and on a file shared by several processes a second turn at
        // the write lock. A producer woken by the jobs that queued them claims
        // within one turn of the event loop (its loop yields one), so this
        // writes them only after two turns in which no claim took outcomes.
        const lent = this.#lent;
        await clock.sleep(0);
        await clock.sleep(0);
        // a write under way may be a claim taking them along; if it fails, its caller hears of it and they are queued again
        while (this.#writing) await this.#writing.catch(() => undefined);
        if (this.#lent !== lent) continue;
        try {
          await this.runOnce(clock.now());
          backoff = 50;
        } catch (error) {
          this.#failures.failed(error, clock.now());
          await clock.sleep(backoff);
          backoff = Math.min(backoff * 2, 5000);
        }
      }
    } finally {
      this.#flushing = null;
    }
  }
}
