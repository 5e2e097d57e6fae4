/**
 * The promoter moves due scheduled jobs (delayed jobs and retries) to pending.
 * It sleeps until the earliest due time it knows of, never longer than
 * `maxSleepMs` so jobs scheduled by other processes are found, and is woken
 * when this process schedules an earlier one.
 */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { Store } from "../store/store.ts";
import { CLOCK, LOGGER, checkDependencies, storeWith } from "./dependencies-check.ts";
import { type ServiceHealth, ServiceLoop } from "./loop.ts";

export interface PromoterOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Called when jobs became pending. */
  onPromoted: () => void;
  /** Longest sleep. Default 200 ms. */
  maxSleepMs?: number;
}

export class Promoter {
  readonly #options: PromoterOptions;
  readonly #loop: ServiceLoop;
  #nextDueAt: number | null = null;

  /** Throws INVALID_OPTIONS (a SpoolError) naming a missing or mistyped dependency. */
  constructor(options: PromoterOptions) {
    checkDependencies("promoter", options, { store: storeWith("promoteDueJobs"), clock: CLOCK, logger: LOGGER, onPromoted: "function" });
    this.#options = options;
    this.#loop = new ServiceLoop({ name: "promoter", clock: options.clock, logger: options.logger, runOnce: (now) => this.runOnce(now) });
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

  /** A job was scheduled for `runAt` in this process: wake if it is earlier than what we wait for. */
  notifyScheduled(runAt: number): void {
    if (this.#nextDueAt === null || runAt < this.#nextDueAt) {
      this.#nextDueAt = runAt;
      this.#loop.wake();
    }
  }

  /** Promotes what is due; returns the ms until the next due job (bounded). */
  async runOnce(now: number): Promise<number> {
    const maxSleep = this.#options.maxSleepMs ?? 200;
    const { promoted, nextDueAt } = await this.#options.store.promoteDueJobs(now);
    if (promoted > 0) this.#options.onPromoted();
    this.#nextDueAt = nextDueAt;
    if (nextDueAt === null) return maxSleep;
    return Math.max(0, Math.min(nextDueAt - this.#options.clock.now(), maxSleep));
  }
}
