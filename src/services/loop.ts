/**
 * The loop around a service's `runOnce(now)`: it only schedules. A pass says
 * how long to wait before the next; `wake()` cuts a wait short; a failing pass
 * is logged once per change between healthy and failing and retried with
 * backoff, so a database outage never kills a service or floods the log.
 */
import type { Clock } from "../core/clock.ts";
import { LONGEST_SLEEP_MS } from "../core/defaults.ts";
import type { Logger } from "../core/logger.ts";

/** What a service's failure tracking says about it now. */
export interface ServiceHealth {
  service: string;
  /** True while its passes fail; false once one succeeds again. */
  failing: boolean;
  /** When the current run of failures began (epoch ms), or null while healthy. */
  since: number | null;
  /** The message of the latest failure, kept after recovery; null when it never failed. */
  lastError: string | null;
  /** When the latest failure happened (epoch ms), or null. */
  lastErrorAt: number | null;
}

/**
 * A service's run of failures: one error line when it starts failing, one
 * info line when it recovers, and the last error and since when in between,
 * for the health check.
 */
export class FailureTracker {
  readonly #name: string;
  readonly #logger: Logger;
  readonly #failingMessage: string;
  #since: number | null = null;
  #lastError: string | null = null;
  #lastErrorAt: number | null = null;

  /** `failingMessage` is the error line logged when a run of failures starts. */
  constructor(name: string, logger: Logger, failingMessage = `${name} failed; retrying with backoff`) {
    this.#name = name;
    this.#logger = logger;
    this.#failingMessage = failingMessage;
  }

  get failing(): boolean {
    return this.#since !== null;
  }

  /** Records a failure at `now`; logs only the first of a run. */
  failed(error: unknown, now: number): void {
    const message = (error as Error)?.message ?? String(error);
    this.#lastError = message;
    this.#lastErrorAt = now;
    if (this.#since !== null) return;
    this.#since = now;
    this.#logger.error(this.#failingMessage, { service: this.#name, error: message });
  }

  /** Records a success; logs the recovery when it ends a run of failures. */
  succeeded(): void {
    if (this.#since === null) return;
    this.#since = null;
    this.#logger.info(`${this.#name} recovered`, { service: this.#name });
  }

  get health(): ServiceHealth {
    return { service: this.#name, failing: this.#since !== null, since: this.#since, lastError: this.#lastError, lastErrorAt: this.#lastErrorAt };
  }
}

export interface LoopOptions {
  name: string;
  clock: Clock;
  logger: Logger;
  /** One pass; resolves to the ms to wait before the next pass. */
  runOnce: (now: number) => Promise<number>;
  /** Longest wait after a failed pass. Default 5000. */
  maxErrorBackoffMs?: number;
}

const YIELD_EVERY_MS = 10;
// An explicit reason: a bare abort() builds a DOMException with a stack on
// every wake, which showed up in profiles of a busy worker.
const WAKE_REASON = "wake";

export class ServiceLoop {
  readonly #options: LoopOptions;
  #running = false;
  #wakeRequested = false;
  /** Resumes the wait in progress. */
  #resume: (() => void) | null = null;
  /** The one timer that ends waits, kept across waits (see #wait). */
  #timer: { deadline: number; controller: AbortController } | null = null;
  #done: Promise<void> | null = null;
  readonly #failures: FailureTracker;
  #errorBackoff = 0;
  #lastYield = 0;

  constructor(options: LoopOptions) {
    this.#options = options;
    this.#failures = new FailureTracker(options.name, options.logger);
  }

  /** Whether passes are failing now, since when, and the last error. */
  get health(): ServiceHealth {
    return this.#failures.health;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts the loop; idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#done = this.#loop();
  }

  /** Ends any wait now, or makes the next wait end at once. */
  wake(): void {
    this.#wakeRequested = true;
    this.#resume?.();
  }

  /** Stops after the pass in progress; idempotent and awaitable. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#done;
    this.#timer?.controller.abort(WAKE_REASON);
    this.#timer = null;
  }

  async #loop(): Promise<void> {
    const { clock } = this.#options;
    while (this.#running) {
      this.#wakeRequested = false;
      let waitMs: number;
      try {
        waitMs = await this.#options.runOnce(clock.now());
        this.#failures.succeeded();
        this.#errorBackoff = 0;
      } catch (error) {
        this.#failures.failed(error, clock.now());
        this.#errorBackoff = Math.min(Math.max(this.#errorBackoff * 2, 50), this.#options.maxErrorBackoffMs ?? 5000);
        waitMs = this.#errorBackoff;
      }
      if (!this.#running) break;
      if ((this.#wakeRequested && !this.#failures.failing) || waitMs <= 0) {
        // Passes that resolve without I/O chain as microtasks and would starve
        // timers and sockets; give the event loop a turn every few ms.
        if (clock.now() - this.#lastYield > YIELD_EVERY_MS) {
          await clock.sleep(0);
          this.#lastYield = clock.now();
        }
        continue;
      }
      await this.#wait(Math.min(waitMs, LONGEST_SLEEP_MS));
      this.#lastYield = clock.now();
    }
  }

  /**
   * Waits until `wake()` or `ms` have passed. A busy producer waits up to a
   * second between every few jobs and is woken within microseconds: a timer
   * and an AbortController per wait cost more than the wait did. So one timer
   * is kept across waits, and a wait starts a new one only when the kept one
   * would end later than asked. A kept timer that ends an unrelated later
   * wait early only brings a pass forward, which is always allowed.
   */
  async #wait(ms: number): Promise<void> {
    const deadline = this.#options.clock.now() + ms;
    if (this.#timer === null || this.#timer.deadline > deadline) {
      this.#timer?.controller.abort(WAKE_REASON);
      const timer = { deadline, controller: new AbortController() };
      this.#timer = timer;
      void this.#options.clock.sleep(ms, timer.controller.signal).then(() => {
        if (timer.controller.signal.aborted) return;
        this.#timer = null;
        this.#resume?.();
      });
    }
    await new Promise<void>((resolve) => (this.#resume = resolve));
    this.#resume = null;
  }
}
