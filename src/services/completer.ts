/**
 * The completer: the only writer of attempt outcomes. Executors submit; the
 * completer writes everything that piled up since its last write in one batch,
 * so under load a worker costs one round trip per batch, not per job. A failed
 * write is retried with backoff and never dropped: the store failing must not
 * fail a job.
 */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { Outcome, Store } from "../store/store.ts";

export interface CompleterOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Outcomes per write at most. Default 500. */
  maxBatch?: number;
}

interface Pending {
  outcome: Outcome;
  resolve: (written: boolean) => void;
}

export class Completer {
  readonly #options: CompleterOptions;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #failing = false;
  #abandoned = false;

  constructor(options: CompleterOptions) {
    this.#options = options;
  }

  /** Number of outcomes not yet written. */
  get backlog(): number {
    return this.#queue.length;
  }

  /** Queues an outcome; resolves true once written, false when its lease had been lost. */
  submit(outcome: Outcome): Promise<boolean> {
    return new Promise((resolve) => {
      this.#queue.push({ outcome, resolve });
      this.#flushing ??= this.#flush();
    });
  }

  /** One write of everything queued now; the loop runs these until the queue is empty. */
  async runOnce(now: number): Promise<number> {
    const batch = this.#queue.splice(0, this.#options.maxBatch ?? 500);
    if (batch.length === 0) return 0;
    let written: Set<string>;
    try {
      written = await this.#options.store.completeJobs(batch.map((p) => p.outcome), now);
    } catch (error) {
      this.#queue.unshift(...batch);
      throw error;
    }
    for (const pending of batch) pending.resolve(written.has(pending.outcome.id));
    return batch.length;
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
    const { clock, logger } = this.#options;
    let backoff = 50;
    try {
      while (this.#queue.length > 0 && !this.#abandoned) {
        try {
          await this.runOnce(clock.now());
          if (this.#failing) {
            this.#failing = false;
            logger.info("completer recovered", { service: "completer" });
          }
          backoff = 50;
        } catch (error) {
          if (!this.#failing) {
            this.#failing = true;
            logger.error("completer could not write outcomes; retrying", { service: "completer", error: (error as Error).message });
          }
          await clock.sleep(backoff);
          backoff = Math.min(backoff * 2, 5000);
        }
      }
    } finally {
      this.#flushing = null;
    }
  }
}
