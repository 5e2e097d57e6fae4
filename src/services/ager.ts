/**
 * The starvation guard: in queues given an aging period, a pending job is
 * raised one priority level (10) for every full period it has waited past its
 * run time, so low-priority work is never starved forever. Off for a queue
 * until `agingMs` is set for it.
 */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { Store } from "../store/store.ts";
import { CLOCK, LOGGER, checkDependencies, storeWith } from "./dependencies-check.ts";
import { type ServiceHealth, ServiceLoop } from "./loop.ts";

export interface AgerOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Pass interval. Default 1000 ms. */
  intervalMs?: number;
}

export class Ager {
  readonly #options: AgerOptions;
  readonly #loop: ServiceLoop;

  /** Throws INVALID_OPTIONS (a SpoolError) naming a missing or mistyped dependency. */
  constructor(options: AgerOptions) {
    checkDependencies("ager", options, { store: storeWith("ageWaitingJobs"), clock: CLOCK, logger: LOGGER });
    this.#options = options;
    this.#loop = new ServiceLoop({ name: "ager", clock: options.clock, logger: options.logger, runOnce: (now) => this.runOnce(now) });
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

  async runOnce(now: number): Promise<number> {
    await this.#options.store.ageWaitingJobs(now);
    return this.#options.intervalMs ?? 1000;
  }
}
