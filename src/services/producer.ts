/**
 * The producer claims jobs for its free slots and hands each to the executor.
 * A local enqueue or a finished job wakes it at once; otherwise it polls,
 * backing off while the queue is idle and snapping back when work appears
 * (jobs enqueued by other processes are found this way).
 *
 * Claiming ahead: while this worker's jobs are short it also claims up to
 * `prefetch` jobs more than it has free slots and keeps them in a buffer, so
 * a slot that frees takes its next job at once and claims come in larger
 * batches. Buffered jobs are leased like running ones (the heartbeat renews
 * them with the running ones), start in claim order, and go back to the queue
 * on stop without spending an attempt. The rule:
 * - jobs are short when the last 16 finished attempts took on average, and
 *   every attempt running now has taken so far, at most half the fastest poll
 *   (`minPollMs`, 25 ms: 12.5 ms) and at most a twentieth of the lease; until
 *   8 attempts have finished nothing is claimed ahead;
 * - the buffer holds at most `prefetch`, and no more than the worker can start
 *   in one renewal interval (a third of the lease) at the recent attempts'
 *   pace, so no buffered lease outlives the pace that earned it;
 * - with every slot busy it refills only once the buffer holds fewer jobs
 *   than the slots, so a busy worker claims in batches of up to `prefetch`
 *   (and writes the outcomes gathered meanwhile with that claim) instead of
 *   one claim per finished job;
 * - types with a global concurrency or rate limit are never claimed ahead (a
 *   buffered job would hold a slot of the limit without using it).
 * A buffer is bounded, so a job enqueued while it is full stays pending for
 * any idle worker; a job buffered behind an attempt that turns long waits for
 * a slot of this worker (at most `prefetch` jobs, and only until claiming
 * ahead stops, which it does as soon as a running attempt passes the limit).
 */
import type { Clock } from "../core/clock.ts";
import { SpoolError } from "../core/errors.ts";
import type { ClaimedJob } from "../core/job.ts";
import type { JobTypes } from "../core/job-types.ts";
import type { Logger } from "../core/logger.ts";
import { release } from "../core/transitions.ts";
import type { ServedType } from "../store/claim-jobs.ts";
import type { Store } from "../store/store.ts";
import type { Completer } from "./completer.ts";
import { CLOCK, LOGGER, checkDependencies, storeWith } from "./dependencies-check.ts";
import type { Executor } from "./executor.ts";
import { type ServiceHealth, ServiceLoop } from "./loop.ts";

export interface ProducerOptions {
  /** Claims are the store's (`completeAndClaim`). */
  store: Store;
  executor: Executor;
  /** Only jobs of these types are claimed; with none defined, nothing is (a producer-only process). */
  types: JobTypes;
  /** Lends its queued outcomes to each claim, so they are written in the same transaction. */
  completer: Completer;
  clock: Clock;
  logger: Logger;
  workerId: string;
  /** Jobs in flight at most in this process. */
  concurrency: number;
  /** Only these queues; null for all. */
  queues: string[] | null;
  leaseMs: number;
  /**
   * Claimed-but-not-started jobs this worker may hold while its jobs are
   * short (see the rule above); 0 turns claiming ahead off. Default 0.
   */
  prefetch?: number;
  /** Fastest idle poll. Default 25 ms. */
  minPollMs?: number;
  /** Slowest idle poll. Default 1000 ms. */
  maxPollMs?: number;
  newToken: () => string;
}

/** How many finished attempts the claim-ahead rule looks back on. */
const RECENT = 16;
/** Finished attempts needed before the rule trusts what it saw. */
const WARM_UP = 8;

export class Producer {
  readonly #options: ProducerOptions;
  readonly #loop: ServiceLoop;
  /** Handlers running now, with when each started (oldest first); each holds one slot. */
  readonly #inFlight = new Map<ClaimedJob, number>();
  /** Jobs started or handed back whose outcome is not written yet. */
  #unwritten = 0;
  /** Waiters of `settle()`, told when nothing runs and nothing is left unwritten. */
  #settledWaiters: Array<() => void> = [];
  /** Claimed ahead, not started yet, in claim order. */
  #buffer: ClaimedJob[] = [];
  /** Durations of the last RECENT finished attempts, a ring. */
  readonly #recent = new Float64Array(RECENT);
  #finished = 0;
  readonly #prefetch: number;
  /** Longest attempt that still counts as short (ms). */
  readonly #shortMs: number;
  #pollMs: number;
  #claiming = true;
  /** True while #startBuffered runs: a slot freed meanwhile is filled by that same loop. */
  #starting = false;
  #served: { revision: number; types: ReadonlyMap<string, ServedType>; unlimited: ReadonlyMap<string, ServedType> } | null = null;

  /** Throws INVALID_OPTIONS (a SpoolError) unless `concurrency` is a positive integer and `prefetch` a non-negative one, or naming a missing or mistyped dependency. */
  constructor(options: ProducerOptions) {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) {
      throw new SpoolError("INVALID_OPTIONS", `concurrency must be a positive integer, got ${JSON.stringify(options.concurrency)}`);
    }
    const prefetch = options.prefetch ?? 0;
    if (!Number.isSafeInteger(prefetch) || prefetch < 0) {
      throw new SpoolError("INVALID_OPTIONS", `prefetch must be a non-negative integer, got ${JSON.stringify(options.prefetch)}`);
    }
    checkDependencies(
      "producer",
      options,
      {
        store: storeWith("completeAndClaim"),
        executor: { methods: ["start"] },
        types: { methods: ["names", "options"] },
        completer: { methods: ["withPendingOutcomes", "queue"] },
        clock: CLOCK,
        logger: LOGGER,
        workerId: "string",
        newToken: "function",
      },
    );
    this.#options = options;
    this.#prefetch = prefetch;
    this.#shortMs = Math.min((options.minPollMs ?? 25) / 2, options.leaseMs / 20);
    this.#pollMs = options.minPollMs ?? 25;
    this.#loop = new ServiceLoop({ name: "producer", clock: options.clock, logger: options.logger, runOnce: (now) => this.runOnce(now) });
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Jobs claimed ahead and not started yet, in the order they will start. */
  get buffered(): readonly ClaimedJob[] {
    return this.#buffer;
  }

  /** True when `job` waits in the buffer under this very lease. */
  holds(job: { id: string; leaseToken: string }): boolean {
    return this.#buffer.some((b) => b.id === job.id && b.leaseToken === job.leaseToken);
  }

  /**
   * Drops a buffered job whose lease is gone (the heartbeat could not renew
   * it): another worker may hold it now, so it must not start here.
   */
  dropBuffered(id: string): void {
    const at = this.#buffer.findIndex((b) => b.id === id);
    if (at < 0) return;
    const [job] = this.#buffer.splice(at, 1);
    this.#options.logger.warn("lease of a job claimed ahead was lost; it will not start here", { jobId: id, type: job!.type });
  }

  start(): void {
    this.#claiming = true;
    this.#loop.start();
  }

  /** Something may be ready: claim now instead of at the next poll. */
  wake(): void {
    this.#loop.wake();
  }

  /** Whether this service's passes are failing now, since when, and the last error. */
  get health(): ServiceHealth {
    return this.#loop.health;
  }

  /**
   * Stops claiming and hands buffered jobs back to the queue (pending, the
   * attempt not spent); running jobs go on (see `settle`).
   */
  async stop(): Promise<void> {
    this.#claiming = false;
    await this.#loop.stop();
    this.#handBack();
  }

  /** Resolves when every job this producer started, or handed back, has its outcome written. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#unwritten > 0) {
      await new Promise<void>((resolve) => this.#settledWaiters.push(resolve));
    }
  }

  /** Starts buffered jobs in free slots, then claims; returns the ms to wait before the next pass. */
  async runOnce(now: number): Promise<number> {
    const { store, completer, concurrency } = this.#options;
    if (!this.#claiming) return 0;
    this.#startBuffered();
    const free = concurrency - this.#inFlight.size;
    const room = this.#roomAhead(now, free);
    // a finishing job wakes the loop, so the long wait only bounds a missed wake
    if (free <= 0 && room <= 0) return 1000;
    const served = this.#servedTypes();
    // A claim takes jobs in priority order across types, so jobs of a limited
    // type could land in the buffer: with any served type limited, the slots
    // are claimed for with every type and the buffer only with the others.
    const ahead = served.unlimited.size === served.types.size ? room : free > 0 ? 0 : room;
    const types = free > 0 ? served.types : served.unlimited;
    const limit = (free > 0 ? free : 0) + ahead;
    if (limit <= 0 || types.size === 0) return 1000;
    const request = {
      limit,
      types,
      queues: this.#options.queues,
      workerId: this.#options.workerId,
      token: this.#options.newToken(),
      now,
      leaseMs: this.#options.leaseMs,
    };
    const { jobs } = await completer.withPendingOutcomes((outcomes) => store.completeAndClaim(outcomes, request, now));
    for (const job of jobs) this.#buffer.push(job);
    // stopped while the claim was under way: these never start here, stop hands them back
    if (!this.#claiming) return 0;
    this.#startBuffered();
    if (jobs.length > 0) {
      this.#pollMs = this.#options.minPollMs ?? 25;
      if (jobs.length < limit) return 0;
      // slots filled but the buffer was left out for a limited type: claim ahead now
      return ahead < room ? 0 : 1000;
    }
    const wait = this.#pollMs;
    this.#pollMs = Math.min(this.#pollMs * 2, this.#options.maxPollMs ?? 1000);
    return wait;
  }

  /**
   * Starts buffered jobs, in claim order, in the free slots. A handler that
   * returns a plain value frees its slot before `#run` returns, and its
   * `#finishedOne` calls here again: that call leaves the work to the loop
   * already running, so a buffer of any size drains without the stack
   * growing with it.
   */
  #startBuffered(): void {
    if (this.#starting) return;
    this.#starting = true;
    try {
      while (this.#claiming && this.#buffer.length > 0 && this.#inFlight.size < this.#options.concurrency) this.#run(this.#buffer.shift()!);
    } finally {
      this.#starting = false;
    }
  }

  #run(job: ClaimedJob): void {
    // only the claim-ahead rule reads start times; without it a job costs no clock read
    this.#inFlight.set(job, this.#prefetch === 0 ? 0 : this.#options.clock.now());
    this.#unwritten++;
    this.#options.executor.start(job, this.#finishedOne, this.#writtenOne);
  }

  /**
   * A handler is done: its slot takes the next buffered job at once, and the
   * loop is woken to claim only when the buffer runs low (a pass per job cost
   * more than the job).
   */
  readonly #finishedOne = (job: ClaimedJob): void => {
    const startedAt = this.#inFlight.get(job)!;
    this.#inFlight.delete(job);
    if (this.#prefetch !== 0) this.#record(this.#options.clock.now() - startedAt);
    this.#startBuffered();
    if (this.#buffer.length >= this.#options.concurrency) return;
    this.wake();
  };

  readonly #writtenOne = (): void => {
    this.#unwritten--;
    if (this.#inFlight.size === 0 && this.#unwritten === 0 && this.#settledWaiters.length > 0) {
      for (const resolve of this.#settledWaiters.splice(0)) resolve();
    }
  };

  #record(durationMs: number): void {
    this.#recent[this.#finished % RECENT] = durationMs;
    this.#finished++;
  }

  /** How many more jobs to claim ahead now; 0 unless this worker's jobs are short (the rule in the module comment). */
  #roomAhead(now: number, free: number): number {
    if (this.#prefetch === 0 || this.#finished < WARM_UP) return 0;
    // the mean, not the slowest: one attempt stalled by a busy machine must not turn the rule off
    let total = 0;
    const seen = Math.min(this.#finished, RECENT);
    for (let i = 0; i < seen; i++) total += this.#recent[i]!;
    const pace = total / seen;
    // the oldest attempt running now, which may already be longer than any that finished
    for (const startedAt of this.#inFlight.values()) {
      if (now - startedAt > this.#shortMs) return 0;
      break;
    }
    if (pace > this.#shortMs) return 0;
    const { concurrency, leaseMs } = this.#options;
    const startable = Math.floor((concurrency * (leaseMs / 3)) / Math.max(pace, 1));
    const cap = Math.min(this.#prefetch, startable);
    // with every slot busy, claim only once the buffer cannot refill the slots again
    if (free <= 0 && this.#buffer.length >= concurrency) return 0;
    return Math.max(0, cap - this.#buffer.length);
  }

  /** Buffered jobs go back to the queue as released: pending, their attempt not spent. */
  #handBack(): void {
    const jobs = this.#buffer.splice(0);
    if (jobs.length === 0) return;
    const now = this.#options.clock.now();
    for (const job of jobs) {
      this.#unwritten++;
      this.#options.completer.queue(release(job, now), this.#writtenOne);
    }
    this.#options.logger.info("jobs claimed ahead returned to the queue at shutdown", { jobIds: jobs.map((j) => j.id) });
  }

  /** The defined types with the options their jobs take at claim; rebuilt only after a `define`. */
  #servedTypes(): { types: ReadonlyMap<string, ServedType>; unlimited: ReadonlyMap<string, ServedType> } {
    const { types } = this.#options;
    if (this.#served?.revision !== types.revision) {
      const served = new Map<string, ServedType>();
      const unlimited = new Map<string, ServedType>();
      for (const name of types.names()) {
        const options = types.options(name)!;
        const type = { maxAttempts: options.maxAttempts, timeoutMs: options.timeoutMs };
        served.set(name, type);
        if (options.concurrency === undefined && options.rateLimit === undefined) unlimited.set(name, type);
      }
      this.#served = { revision: types.revision, types: served, unlimited };
    }
    return this.#served;
  }
}
