/**
 * Time as a dependency. Services read "now" and wait only through a Clock, so
 * tests can drive them one pass at a time with a clock they control.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// A zero-length sleep is one turn of the event loop. setTimeout(0) waits at
// least 1 ms on Node, which is long next to a lock held for half a
// millisecond; setImmediate (on Node, Bun and Deno alike) lets pending I/O
// run and comes straight back. Detected, not assumed, for other hosts.
type Turn = { schedule: (fn: () => void) => unknown; cancel: (handle: unknown) => void };
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown; clearImmediate?: (handle: unknown) => void });
const nextTurn: Turn =
  typeof immediate.setImmediate === "function" && typeof immediate.clearImmediate === "function"
    ? { schedule: immediate.setImmediate, cancel: immediate.clearImmediate }
    : { schedule: (fn) => setTimeout(fn, 0), cancel: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>) };

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const turn = ms <= 0;
      const handle = turn ? nextTurn.schedule(done) : setTimeout(done, ms);
      function done() {
        if (turn) nextTurn.cancel(handle);
        else clearTimeout(handle as ReturnType<typeof setTimeout>);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};
