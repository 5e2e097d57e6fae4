/**
 * The loop around a service's `runOnce(now)`: it only schedules. A pass says
 * how long to wait before the next; `wake()` cuts a wait short; a failing pass
 * is logged once per change between healthy and failing and retried with
 * backoff, so a database outage never kills a service or floods the log.
 */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";

export interface LoopOptions {
  name: string;
  clock: Clock;
  logger: Logger;
  /** One pass; resolves to the ms to wait before the next pass. */
  runOnce: (now: number) => Promise<number>;
  /** Longest wait after a failed pass. Default 5000. */
  maxErrorBackoffMs?: number;
}

// no timer waits longer than this; every wake re-reads the clock
const MAX_SLEEP_MS = 30_000;
const YIELD_EVERY_MS = 10;
// An explicit reason: a bare abort() builds a DOMException with a stack on
// every wake, which showed up in profiles of a busy worker.
const WAKE_REASON = "wake";

export class ServiceLoop {
  readonly #options: LoopOptions;
  #running = false;
  #wakeRequested = false;
  #sleeper: AbortController | null = null;
  #done: Promise<void> | null = null;
  #failing = false;
  #errorBackoff = 0;
  #lastYield = 0;

  constructor(options: LoopOptions) {
    this.#options = options;
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
    this.#sleeper?.abort(WAKE_REASON);
  }

  /** Stops after the pass in progress; idempotent and awaitable. */
  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#done;
  }

  async #loop(): Promise<void> {
    const { clock, logger, name } = this.#options;
    while (this.#running) {
      this.#wakeRequested = false;
      let waitMs: number;
      try {
        waitMs = await this.#options.runOnce(clock.now());
        if (this.#failing) {
          this.#failing = false;
          logger.info(`${name} recovered`, { service: name });
        }
        this.#errorBackoff = 0;
      } catch (error) {
        if (!this.#failing) {
          this.#failing = true;
          logger.error(`${name} failed; retrying with backoff`, { service: name, error: (error as Error)?.message ?? String(error) });
        }
        this.#errorBackoff = Math.min(Math.max(this.#errorBackoff * 2, 50), this.#options.maxErrorBackoffMs ?? 5000);
        waitMs = this.#errorBackoff;
      }
      if (!this.#running) break;
      if ((this.#wakeRequested && !this.#failing) || waitMs <= 0) {
        // Passes that resolve without I/O chain as microtasks and would starve
        // timers and sockets; give the event loop a turn every few ms.
        if (clock.now() - this.#lastYield > YIELD_EVERY_MS) {
          await clock.sleep(0);
          this.#lastYield = clock.now();
        }
        continue;
      }
      this.#sleeper = new AbortController();
      await clock.sleep(Math.min(waitMs, MAX_SLEEP_MS), this.#sleeper.signal);
      this.#sleeper = null;
      this.#lastYield = clock.now();
    }
  }
}
