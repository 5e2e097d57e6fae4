/**
 * Clocks for tests: the system clock watched, so a test awaits the moment a
 * service goes to sleep (it is idle, its pass is done) instead of sleeping a
 * fixed time and hoping the service got there; and a clock whose "now" the
 * test sets.
 */
import { type Clock, systemClock } from "../../src/core/clock.ts";

export interface WatchedClock extends Clock {
  /**
   * Resolves with the length of the first sleep, begun after this call, for
   * which `matches(ms)` is true; rejects after `timeoutMs` (default 20 s)
   * naming `what`.
   */
  sleptFor(what: string, matches: (ms: number) => boolean, timeoutMs?: number): Promise<number>;
}

/** Real time, with every sleep reported to the waiters of `sleptFor`. */
export function watchedClock(): WatchedClock {
  const waiters = new Set<{ matches: (ms: number) => boolean; resolve: (ms: number) => void }>();
  return {
    now: () => systemClock.now(),
    sleep(ms, signal) {
      for (const waiter of waiters) {
        if (waiter.matches(ms)) {
          waiters.delete(waiter);
          waiter.resolve(ms);
        }
      }
      return systemClock.sleep(ms, signal);
    },
    sleptFor(what, matches, timeoutMs = 20_000) {
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        const waiter = {
          matches,
          resolve: (ms: number) => {
            clearTimeout(timer);
            resolve(ms);
          },
        };
        waiters.add(waiter);
      });
    },
  };
}

/** "now" is whatever the test sets `t` to; sleeps stay short (at most 5 ms) and real, so loops and busy retries go on. */
export class SetClock implements Clock {
  t: number;

  constructor(t: number) {
    this.t = t;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(Math.min(ms, 5), signal);
  }
}
