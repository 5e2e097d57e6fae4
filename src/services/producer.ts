/**
 * The producer claims no more jobs than it has free slots and hands each to
 * the executor. A local enqueue or a finished job wakes it at once; otherwise
 * it polls, backing off while the queue is idle and snapping back when work
 * appears (jobs enqueued by other processes are found this way).
 */
import type { Clock } from "../core/clock.ts";
import { SpoolError } from "../core/errors.ts";
import type { JobTypes } from "../core/job-types.ts";
import type { Logger } from "../core/logger.ts";
import type { ServedType } from "../store/claim-jobs.ts";
import type { Completer } from "./completer.ts";
import type { Executor } from "./executor.ts";
import { type ServiceHealth, ServiceLoop } from "./loop.ts";

export interface ProducerOptions {
  executor: Executor;
  /** Only jobs of these types are claimed; with none defined, nothing is (a producer-only process). */
  types: JobTypes;
  /** Claims go through it, so finished jobs' outcomes are written in the same transaction. */
  completer: Completer;
  clock: Clock;
  logger: Logger;
  workerId: string;
  /** Jobs in flight at most in this process. */
  concurrency: number;
  /** Only these queues; null for all. */
  queues: string[] | null;
  leaseMs: number;
  /** Fastest idle poll. Default 25 ms. */
  minPollMs?: number;
  /** Slowest idle poll. Default 1000 ms. */
  maxPollMs?: number;
  newToken: () => string;
}

export class Producer {
  readonly #options: ProducerOptions;
  readonly #loop: ServiceLoop;
  /** Handlers running now; each holds one slot. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Outcomes submitted but not yet written. */
  readonly #unwritten = new Set<Promise<void>>();
  #pollMs: number;
  #claiming = true;
  #served: { revision: number; types: ReadonlyMap<string, ServedType> } | null = null;

  /** Throws INVALID_OPTIONS (a SpoolError) unless `concurrency` is a positive integer. */
  constructor(options: ProducerOptions) {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) {
      throw new SpoolError("INVALID_OPTIONS", `concurrency must be a positive integer, got ${JSON.stringify(options.concurrency)}`);
    }
    this.#options = options;
    this.#pollMs = options.minPollMs ?? 25;
    this.#loop = new ServiceLoop({ name: "producer", clock: options.clock, logger: options.logger, runOnce: (now) => this.runOnce(now) });
  }

  get inFlight(): number {
    return this.#inFlight.size;
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

  /** Stops claiming; running jobs go on (see `settle`). */
  async stop(): Promise<void> {
    this.#claiming = false;
    await this.#loop.stop();
  }

  /** Resolves when every job this producer started has its outcome written. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#unwritten.size > 0) {
      await Promise.all([...this.#inFlight, ...this.#unwritten]);
    }
  }

  /** One claim; returns the ms to wait before the next. */
  async runOnce(now: number): Promise<number> {
    const { completer, executor, concurrency } = this.#options;
    if (!this.#claiming) return 0;
    const free = concurrency - this.#inFlight.size;
    // a finishing job wakes the loop, so the long wait only bounds a missed wake
    if (free <= 0) return 1000;
    const jobs = await completer.completeAndClaim({
      limit: free,
      types: this.#servedTypes(),
      queues: this.#options.queues,
      workerId: this.#options.workerId,
      token: this.#options.newToken(),
      now,
      leaseMs: this.#options.leaseMs,
    });
    for (const job of jobs) {
      const run = executor.run(job).then(
        ({ written }) => {
          const tracked = written.finally(() => this.#unwritten.delete(tracked));
          this.#unwritten.add(tracked);
        },
        (error) => this.#options.logger.error("executor failed", { jobId: job.id, error: (error as Error).message }),
      ).finally(() => {
        this.#inFlight.delete(run);
        this.wake();
      });
      this.#inFlight.add(run);
    }
    if (jobs.length > 0) {
      this.#pollMs = this.#options.minPollMs ?? 25;
      return jobs.length === free ? 1000 : 0;
    }
    const wait = this.#pollMs;
    this.#pollMs = Math.min(this.#pollMs * 2, this.#options.maxPollMs ?? 1000);
    return wait;
  }

  /** The defined types with the options their jobs take at claim; rebuilt only after a `define`. */
  #servedTypes(): ReadonlyMap<string, ServedType> {
    const { types } = this.#options;
    if (this.#served?.revision !== types.revision) {
      const served = new Map<string, ServedType>();
      for (const name of types.names()) {
        const options = types.options(name)!;
        served.set(name, { maxAttempts: options.maxAttempts, timeoutMs: options.timeoutMs });
      }
      this.#served = { revision: types.revision, types: served };
    }
    return this.#served.types;
  }
}
