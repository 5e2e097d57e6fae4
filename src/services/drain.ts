/**
 * One bounded pass of everything a worker does, for platforms that run code
 * only per request or per cron trigger: the promoter, cron, reaper and ager
 * passes, then claims and runs due jobs until the budget or the job count is spent.
 *
 * The budget ends in two steps. Handlers may run until `budget - reserve`;
 * the reserve is for writing what they came to. A claimed job whose own
 * timeoutMs does not fit in the time left is not started: it stays claimed
 * (so the next claims reach the jobs behind it instead of taking it again)
 * and is handed back unstarted, attempt not spent, as soon as claiming ends.
 * A job without a timeoutMs still running when handler time is over is
 * handed back the way a stopping worker hands back its unfinished jobs.
 * Every other guarantee is the worker's own, from the same parts: leases
 * renewed by the heartbeat and fenced by their token, timeouts by the
 * executor, per-type limits in the claim, chained jobs written with their
 * parent's outcome by the completer.
 */
import type { EventSink } from "../core/events.ts";
import type { Clock } from "../core/clock.ts";
import { toError } from "../core/errors.ts";
import type { ClaimedJob } from "../core/job.ts";
import type { JobTypes } from "../core/job-types.ts";
import type { Logger } from "../core/logger.ts";
import { release } from "../core/transitions.ts";
import type { ServedType } from "../store/claim-jobs.ts";
import type { Outcome, Store } from "../store/store.ts";
import { Ager } from "./ager.ts";
import { Completer, type CompleterOptions } from "./completer.ts";
import { Cron } from "./cron.ts";
import { Executor } from "./executor.ts";
import { RunningJobs, type StopReason } from "./running-jobs.ts";
import { Heartbeat } from "./heartbeat.ts";
import { ServiceLoop } from "./loop.ts";
import { Promoter } from "./promoter.ts";
import { Reaper } from "./reaper.ts";

/** What a drain did: see `Spool.drain`. */
export interface DrainSummary {
  /** Attempts started. */
  ran: number;
  /** Attempts that completed. */
  completed: number;
  /** Attempts that failed for good: the job is dead, or was cancelled while it ran. */
  failed: number;
  /** Attempts that failed and were scheduled to run again. */
  retried: number;
  /** Jobs due now in the drained queues that this drain did not run (handed-back jobs among them). */
  remaining: number;
  /** When the next scheduled job or cron tick is due (epoch ms, possibly already past), or null for none. */
  nextDueAt: number | null;
}

export interface DrainServiceOptions {
  store: Store;
  types: JobTypes;
  clock: Clock;
  logger: Logger;
  workerId: string;
  leaseMs: number;
  maxPayloadBytes: number;
  maxJsonDepth?: number;
  random?: () => number;
  newToken: () => string;
  /** The whole drain's time, in ms. */
  budgetMs: number;
  /** Attempts to start at most; Infinity for no cap. */
  maxJobs: number;
  /** Only these queues; null for all. */
  queues: string[] | null;
  /** Attempts running at once at most. */
  concurrency: number;
  /** Ends the drain early: no more claims, running jobs are handed back. */
  signal?: AbortSignal;
  /** True for a lease held by an attempt elsewhere in this process (handed to the reaper as ReaperOptions.running). */
  isHeldHere?: (job: ClaimedJob) => boolean;
  /** This process's event sink: a drain reports what it commits, as a worker does. */
  events?: EventSink;
}

/**
 * The time kept back from handlers to write their outcomes: a tenth of the
 * budget, at most one second (a few round trips to a remote database).
 */
export function writeReserveMs(budgetMs: number): number {
  return Math.min(1000, Math.floor(budgetMs / 10));
}

export class Drain {
  readonly #options: DrainServiceOptions;
  readonly executor: Executor;
  /** The attempts this drain is running: its executor and heartbeat share it. */
  readonly running = new RunningJobs();
  readonly #completer: Completer;
  readonly #heartbeat: Heartbeat;
  /** Claimed jobs that did not fit in the time left, held until claiming ends. */
  readonly #held = new Map<string, ClaimedJob>();
  /** Ids of the jobs this drain started, so only their outcomes are tallied. */
  readonly #started = new Set<string>();
  /** Attempts whose handler has not ended yet. */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  readonly #summary = { ran: 0, completed: 0, failed: 0, retried: 0 };

  constructor(options: DrainServiceOptions) {
    this.#options = options;
    const { store, clock, logger, types } = options;
    const { events } = options;
    this.#completer = new TallyingCompleter({ store, clock, logger, events }, (outcome) => this.#tally(outcome));
    const running = this.running;
    const heartbeat = new Heartbeat({ store, running, clock, logger, leaseMs: options.leaseMs });
    this.#heartbeat = heartbeat;
    this.executor = new Executor({
      types,
      completer: this.#completer,
      running,
      clock,
      logger,
      maxPayloadBytes: options.maxPayloadBytes,
      maxJsonDepth: options.maxJsonDepth,
      random: options.random,
      events,
      renewLease: (id) => heartbeat.renew(id),
    });
  }

  /** Whether this drain holds `job`'s lease now (running it, or holding it to hand back). */
  holds(job: { id: string; leaseToken: string }): boolean {
    const held = this.running.get(job.id)?.job ?? this.#held.get(job.id);
    return held?.leaseToken === job.leaseToken;
  }

  /** Stops the attempt this drain runs for job `id` (see RunningJobs.stop); true when one was. */
  stopAttempt(id: string, reason: StopReason): boolean {
    if (!this.running.has(id)) return false;
    this.running.stop(id, reason);
    return true;
  }

  /** Ends the drain early: claiming stops and running jobs are handed back. */
  abort(): void {
    this.#stop.abort();
  }

  /** Settles (never rejects) when `run` has ended and touches the database no more. */
  get finished(): Promise<void> {
    return this.#finished;
  }
  #finished: Promise<void> = Promise.resolve();

  /** Runs the drain once; resolves to what it did. Rejects with the store's error when the database fails. */
  run(): Promise<DrainSummary> {
    const running = this.#run();
    this.#finished = running.then(
      () => undefined,
      () => undefined,
    );
    return running;
  }

  async #run(): Promise<DrainSummary> {
    const { clock, logger, budgetMs, signal } = this.#options;
    const startedAt = clock.now();
    const deadline = startedAt + budgetMs;
    const handlersEnd = deadline - writeReserveMs(budgetMs);
    const onAbort = () => this.#stop.abort();
    if (signal?.aborted) this.#stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const renewals = new ServiceLoop({ name: "drain heartbeat", clock, logger, runOnce: (now) => this.#renew(now) });
    let failure: unknown = null;
    try {
      renewals.start();
      try {
        const maintained = await this.#until(handlersEnd, this.#maintain(clock.now()));
        if (maintained) await this.#claimAndRun(handlersEnd);
      } catch (error) {
        failure = error;
      }
      this.#stopClaiming(failure === null ? "claiming ended" : "the database failed");
      await this.#finishRunning(handlersEnd);
      if (!(await this.#until(deadline, this.#completer.drain(), true))) {
        logger.error("drain budget over before every outcome was written; those jobs come back when their leases expire", {
          unwritten: this.#completer.backlog,
        });
        this.#completer.abandon();
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await renewals.stop();
    }
    if (failure !== null) throw failure;
    const { remaining, nextDueAt } = await this.#options.store.dueWork({
      now: clock.now(),
      queues: this.#options.queues,
      types: this.#options.types.names(),
    });
    const summary: DrainSummary = { ...this.#summary, remaining, nextDueAt };
    logger.info("drain finished", { ...summary, ms: clock.now() - startedAt });
    return summary;
  }

  /**
   * The promoter, cron and reaper passes, in that order, and the ager's (the
   * starvation guard of queues given an aging period, before the claims it
   * orders); resolves once each has written what it found.
   */
  async #maintain(now: number): Promise<void> {
    const { store, clock, logger, types } = this.#options;
    await new Promoter({ store, clock, logger, onPromoted: () => undefined }).runOnce(now);
    await new Cron({ store, types, clock, logger, maxPayloadBytes: this.#options.maxPayloadBytes, events: this.#options.events }).runOnce(now);
    await new Reaper({
      store,
      completer: this.#completer,
      types,
      clock,
      logger,
      leaseMs: this.#options.leaseMs,
      random: this.#options.random,
      running: this.#options.isHeldHere ? { holds: this.#options.isHeldHere } : undefined,
      events: this.#options.events,
    }).runOnce(now);
    await new Ager({ store, clock, logger }).runOnce(now);
  }

  /**
   * Claims for free slots and starts what fits, until nothing is due (and
   * nothing running could chain more), the job count is spent, handler time
   * is over, or the drain is aborted.
   */
  async #claimAndRun(handlersEnd: number): Promise<void> {
    const { clock, concurrency, maxJobs, queues, workerId, leaseMs } = this.#options;
    const inFlight = this.#inFlight;
    // like a worker, a drain claims only the types defined here, with their options
    const types = new Map<string, ServedType>();
    for (const name of this.#options.types.names()) {
      const { maxAttempts, timeoutMs } = this.#options.types.options(name)!;
      types.set(name, { maxAttempts, timeoutMs });
    }
    while (!this.#stop.signal.aborted) {
      const now = clock.now();
      if (now >= handlersEnd) return;
      const unstarted = maxJobs - this.#summary.ran;
      if (unstarted <= 0 && inFlight.size === 0) return;
      const want = Math.min(concurrency - inFlight.size, unstarted);
      if (want > 0) {
        // outcomes submitted before the claim are written in its transaction, so an
        // empty claim with nothing running means nothing more is due
        const idle = inFlight.size === 0;
        const request = { limit: want, types, queues, workerId, token: this.#options.newToken(), now, leaseMs };
        const { jobs } = await this.#completer.withPendingOutcomes((outcomes) => this.#options.store.completeAndClaim(outcomes, request, now));
        for (const job of jobs) {
          if (job.timeoutMs !== null && job.timeoutMs > handlersEnd - clock.now()) this.#held.set(job.id, job);
          else this.#start(job);
        }
        if (jobs.length > 0) continue;
        if (idle) {
          // jobs that became due since the first pass (a retry, a delayed child) are due now too
          if (!(await this.#promote())) return;
          continue;
        }
      }
      if (inFlight.size > 0) await this.#untilOneFinishes(handlersEnd);
    }
  }

  #start(job: ClaimedJob): void {
    this.#summary.ran++;
    this.#started.add(job.id);
    const run: Promise<void> = this.executor
      .run(job)
      .then(
        () => undefined,
        (error) => this.#options.logger.error("executor failed", { jobId: job.id, error: toError(error).message }),
      )
      .finally(() => this.#inFlight.delete(run));
    this.#inFlight.add(run);
  }

  async #promote(): Promise<boolean> {
    const { store, clock, logger } = this.#options;
    let promoted = false;
    await new Promoter({ store, clock, logger, onPromoted: () => (promoted = true) }).runOnce(clock.now());
    return promoted;
  }

  /** Hands back the jobs held unstarted; they are written with the outcomes still to come. */
  #stopClaiming(why: string): void {
    const { clock, logger } = this.#options;
    if (this.#held.size === 0) return;
    const now = clock.now();
    logger.info("drain hands back jobs that do not fit in its budget", { jobIds: [...this.#held.keys()], why });
    for (const job of this.#held.values()) {
      void this.#completer.submit(release(job, now));
    }
    this.#held.clear();
  }

  /** Lets running jobs finish until handler time is over, then hands back the rest as a stopping worker does. */
  async #finishRunning(handlersEnd: number): Promise<void> {
    while (this.#inFlight.size > 0 && !this.#stop.signal.aborted && this.#options.clock.now() < handlersEnd) {
      await this.#untilOneFinishes(handlersEnd);
    }
    if (this.#inFlight.size === 0) return;
    const unfinished = this.running.ids();
    this.#options.logger.warn("drain handler time over; handing unfinished jobs back to the queue", { jobIds: unfinished });
    for (const id of unfinished) this.running.stop(id, "shutdown");
    await Promise.all(this.#inFlight);
  }

  async #untilOneFinishes(until: number): Promise<void> {
    const timer = new AbortController();
    const stopped = new Promise<void>((resolve) => {
      if (this.#stop.signal.aborted) resolve();
      this.#stop.signal.addEventListener("abort", () => resolve(), { once: true, signal: timer.signal });
    });
    await Promise.race([...this.#inFlight, stopped, this.#options.clock.sleep(until - this.#options.clock.now(), timer.signal)]);
    timer.abort();
  }

  /** Whether `work` settled before `until` (and, unless `ignoreStop`, before an abort); its error is thrown. */
  async #until(until: number, work: Promise<unknown>, ignoreStop = false): Promise<boolean> {
    const timer = new AbortController();
    const late = new Promise<boolean>((resolve) => {
      if (!ignoreStop) {
        if (this.#stop.signal.aborted) resolve(false);
        this.#stop.signal.addEventListener("abort", () => resolve(false), { once: true, signal: timer.signal });
      }
      void this.#options.clock.sleep(Math.max(0, until - this.#options.clock.now()), timer.signal).then(() => resolve(false));
    });
    const settled = work.then(() => true);
    // work still going when the time is up may fail later, when the drain has moved on
    settled.catch(() => undefined);
    try {
      return await Promise.race([settled, late]);
    } finally {
      timer.abort();
    }
  }

  /** Renews the leases of running jobs and of jobs held to hand back; returns the ms until the next renewal. */
  async #renew(now: number): Promise<number> {
    const wait = await this.#heartbeat.runOnce(now);
    if (this.#held.size > 0) {
      const held = [...this.#held.values()];
      const { renewed } = await this.#options.store.renewLeases(
        held.map((job) => ({ id: job.id, token: job.leaseToken })),
        now + this.#options.leaseMs,
      );
      // a held lease that was not renewed belongs to someone else now: nothing to hand back
      for (const job of held) if (!renewed.has(job.id)) this.#held.delete(job.id);
    }
    return wait;
  }

  #tally(outcome: Outcome): void {
    if (!this.#started.has(outcome.id)) return;
    if (outcome.status === "completed") this.#summary.completed++;
    else if (outcome.status === "scheduled") this.#summary.retried++;
    else if (outcome.status === "dead" || outcome.status === "cancelled") this.#summary.failed++;
  }
}

/** A completer that reports every outcome it wrote, for the drain's summary. */
class TallyingCompleter extends Completer {
  readonly #onWritten: (outcome: Outcome) => void;

  constructor(options: CompleterOptions, onWritten: (outcome: Outcome) => void) {
    super(options);
    this.#onWritten = onWritten;
  }

  // submit goes through queue too
  override queue(outcome: Outcome, written: (held: boolean) => void): void {
    super.queue(outcome, (held) => {
      if (held) this.#onWritten(outcome);
      written(held);
    });
  }
}
