/**
 * The services of one started worker, side by side: producer, executor,
 * completer, heartbeat, promoter, cron, reaper and ager, with the order in which
 * they stop.
 */
import type { Clock } from "../core/clock.ts";
import { EventSink } from "../core/events.ts";
import type { ClaimedJob } from "../core/job.ts";
import type { JobTypes } from "../core/job-types.ts";
import type { Logger } from "../core/logger.ts";
import type { Store } from "../store/store.ts";
import { Ager } from "./ager.ts";
import { Completer } from "./completer.ts";
import { Cron } from "./cron.ts";
import { Executor } from "./executor.ts";
import { Heartbeat } from "./heartbeat.ts";
import type { ServiceHealth } from "./loop.ts";
import { Producer } from "./producer.ts";
import { Promoter } from "./promoter.ts";
import { Reaper } from "./reaper.ts";
import { Recorder } from "./recorder.ts";
import { RunningJobs, type StopReason } from "./running-jobs.ts";

// How long past the grace period a stopping worker may spend handing jobs back
// and writing outcomes, all together.
const HAND_BACK_MS = 2000;

export interface SpoolWorkerOptions {
  store: Store;
  types: JobTypes;
  clock: Clock;
  logger: Logger;
  workerId: string;
  concurrency: number;
  queues: string[] | null;
  leaseMs: number;
  /** Jobs claimed ahead of free slots at most while jobs are short; 0 turns it off (see Producer). Default 0. */
  prefetch?: number;
  maxPayloadBytes: number;
  /** Deepest nesting of a payload ctx.enqueue accepts. Default 64. */
  maxJsonDepth?: number;
  /** Largest handler result, in bytes of JSON. Default 64 KiB. */
  maxResultBytes?: number;
  minPollMs?: number;
  maxPollMs?: number;
  newToken: () => string;
  random?: () => number;
  /** Told of every state change this worker commits. Default: a sink of its own, with no listener. */
  events?: EventSink;
  /** Completed jobs older than this are deleted by the reaper; 0 keeps them. Default 7 days. */
  retentionMs?: number;
}

export interface StopOptions {
  /** How long running jobs may take to finish before they are handed back. Default 10 s. */
  graceMs?: number;
}

/**
 * The facade reaches a started worker only through `wake`, `notifyEnqueued`,
 * `stopAttempt`, `health` and `stop`; the services are fields so tests can
 * drive them one `runOnce(now)` at a time.
 */
export class SpoolWorker {
  readonly workerId: string;
  /** The attempts running in this worker: executor, heartbeat and reaper share it. */
  readonly running = new RunningJobs();
  readonly completer: Completer;
  readonly executor: Executor;
  readonly producer: Producer;
  readonly heartbeat: Heartbeat;
  readonly promoter: Promoter;
  readonly cron: Cron;
  readonly reaper: Reaper;
  readonly ager: Ager;
  readonly recorder: Recorder;
  readonly #options: SpoolWorkerOptions;
  #stopping: Promise<void> | null = null;

  constructor(options: SpoolWorkerOptions) {
    this.#options = options;
    this.workerId = options.workerId;
    const { store, clock, logger, types } = options;
    const events = options.events ?? new EventSink(logger);
    const running = this.running;
    this.completer = new Completer({ store, clock, logger, events });
    this.heartbeat = new Heartbeat({
      store,
      running,
      clock,
      logger,
      leaseMs: options.leaseMs,
      claimedAhead: { jobs: () => this.producer.buffered, lost: (id) => this.producer.dropBuffered(id) },
    });
    const heartbeat = this.heartbeat;
    this.executor = new Executor({
      types,
      completer: this.completer,
      running,
      clock,
      logger,
      maxPayloadBytes: options.maxPayloadBytes,
      maxJsonDepth: options.maxJsonDepth,
      maxResultBytes: options.maxResultBytes,
      random: options.random,
      readDependencies: (id) => store.dependenciesOf(id),
      workflowsOfJobs: (ids) => store.workflowsOfJobs(ids),
      events,
      renewLease: (id) => heartbeat.renew(id),
    });
    this.producer = new Producer({
      store,
      executor: this.executor,
      types,
      completer: this.completer,
      clock,
      logger,
      workerId: options.workerId,
      concurrency: options.concurrency,
      queues: options.queues,
      leaseMs: options.leaseMs,
      prefetch: options.prefetch,
      minPollMs: options.minPollMs,
      maxPollMs: options.maxPollMs,
      newToken: options.newToken,
    });
    const producer = this.producer;
    this.promoter = new Promoter({ store, clock, logger, onPromoted: () => producer.wake() });
    this.cron = new Cron({ store, types, clock, logger, maxPayloadBytes: options.maxPayloadBytes, events, onFired: () => producer.wake() });
    this.reaper = new Reaper({
      store,
      completer: this.completer,
      types,
      clock,
      logger,
      leaseMs: options.leaseMs,
      random: options.random,
      running: { holds: (job) => this.holds(job) },
      events,
      retentionMs: options.retentionMs,
    });
    this.recorder = new Recorder({ store, events, clock, logger, workerId: options.workerId, leaseMs: options.leaseMs });
    this.ager = new Ager({ store, clock, logger });
  }

  start(): void {
    this.promoter.start();
    this.cron.start();
    this.reaper.start();
    this.ager.start();
    this.recorder.start();
    this.heartbeat.start();
    this.producer.start();
    this.#options.logger.info("worker started", {
      workerId: this.workerId,
      concurrency: this.#options.concurrency,
      queues: this.#options.queues ?? "all",
      types: this.#options.types.names(),
    });
  }

  /** Something may be ready to claim (a retry, a replay, a resumed queue): claim now instead of at the next poll. */
  wake(): void {
    this.producer.wake();
  }

  /**
   * This process enqueued jobs: `ready` when some can run now, `earliestRunAt`
   * the soonest run time of those scheduled for later (null for none), so the
   * producer claims at once and the promoter wakes in time.
   */
  notifyEnqueued(ready: boolean, earliestRunAt: number | null): void {
    if (ready) this.producer.wake();
    if (earliestRunAt !== null) this.promoter.notifyScheduled(earliestRunAt);
  }

  /** Schedules were added or resumed: the cron scheduler reads them now. */
  notifySchedulesChanged(): void {
    this.cron.wake();
  }

  /** Stops the attempt running here for job `id` (see RunningJobs.stop); true when one was. */
  stopAttempt(id: string, reason: StopReason): boolean {
    if (!this.running.has(id)) return false;
    this.running.stop(id, reason);
    return true;
  }

  /** True when this worker holds `job`'s lease (same job, same token): running it, or claimed ahead. */
  holds(job: ClaimedJob): boolean {
    return this.running.holds(job) || this.producer.holds(job);
  }

  /** Each service's failure tracking: failing or not, since when, the last error. */
  health(): ServiceHealth[] {
    return [this.producer, this.completer, this.heartbeat, this.promoter, this.cron, this.reaper, this.ager, this.recorder].map((s) => s.health);
  }

  get stopped(): boolean {
    return this.#stopping !== null;
  }

  /**
   * Stops claiming, lets running jobs finish for up to `graceMs`, then aborts
   * the rest and hands them back to the queue (pending, attempt not spent).
   * Resolves within `graceMs` plus 2 s even when the database does not
   * answer; outcomes it could not write then stay leased until a reaper
   * hands the jobs back. Idempotent: a second call awaits the first.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.graceMs ?? 10_000);
    return this.#stopping;
  }

  async #stop(graceMs: number): Promise<void> {
    const { clock, logger } = this.#options;
    const graceEnds = clock.now() + graceMs;
    const graceLeft = () => Math.max(0, graceEnds - clock.now());
    // A service in the middle of a pass over a database that does not answer
    // would hold its stop() until the request times out: the grace period bounds it.
    await this.#within(graceLeft(), Promise.all([this.producer.stop(), this.promoter.stop(), this.cron.stop(), this.reaper.stop(), this.ager.stop()]));
    const finished = await this.#within(graceLeft(), this.producer.settle());
    if (!finished) {
      const unfinished = this.running.ids();
      logger.warn("grace period over; handing unfinished jobs back to the queue", { jobIds: unfinished });
      for (const id of unfinished) this.running.stop(id, "shutdown");
    }
    // Handing jobs back and writing outcomes get one short allowance past the
    // grace period, shared: a database that does not answer must not hold the
    // process. What is not written stays leased, and a reaper hands it back.
    const allowanceEnds = clock.now() + HAND_BACK_MS;
    const allowanceLeft = () => Math.max(0, allowanceEnds - clock.now());
    if (!finished) await this.#within(allowanceLeft(), this.producer.settle());
    await this.#within(allowanceLeft(), this.heartbeat.stop());
    if (!(await this.#within(allowanceLeft(), this.completer.drain()))) this.completer.abandon();
    // after the last outcomes, whose events it counts
    await this.#within(allowanceLeft(), this.recorder.stop());
    logger.info("worker stopped", { workerId: this.workerId, at: clock.now() });
  }

  async #within(ms: number, work: Promise<unknown>): Promise<boolean> {
    const timer = new AbortController();
    const done = work.then(() => true);
    const result = await Promise.race([done, this.#options.clock.sleep(ms, timer.signal).then(() => false)]);
    timer.abort();
    return result;
  }
}
