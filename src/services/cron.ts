/**
 * The cron scheduler enqueues one job per tick of every stored schedule. Each
 * tick's job is inserted under its unique (schedule, fire time) key in the
 * same write as the schedule's next fire time, so any number of schedulers
 * (one per worker process) enqueue each tick exactly once. It sleeps until the
 * earliest next tick, never longer than `maxSleepMs` (schedules defined,
 * paused or resumed in other processes are found at the next pass), and every
 * pass reads the wall clock afresh, so a suspended machine or a clock jump
 * catches up by policy instead of drifting.
 */
import type { Clock } from "../core/clock.ts";
import { LONGEST_SLEEP_MS } from "../core/defaults.ts";
import { SpoolError } from "../core/errors.ts";
import type { EventSink } from "../core/events.ts";
import type { NewJobRow } from "../core/job.ts";
import type { JobTypes } from "../core/job-types.ts";
import type { Logger } from "../core/logger.ts";
import { newJobRow } from "../core/new-job.ts";
import { type CronTimes, compileCron, dueTicks } from "../core/schedule.ts";
import type { ScheduleRecord, Store } from "../store/store.ts";
import { CLOCK, LOGGER, checkDependencies, storeWith } from "./dependencies-check.ts";
import { type ServiceHealth, ServiceLoop } from "./loop.ts";

export interface CronOptions {
  store: Store;
  types: JobTypes;
  clock: Clock;
  logger: Logger;
  maxPayloadBytes: number;
  /** Told of every job a tick enqueued here (`enqueued`). */
  events?: EventSink;
  /** Called when this scheduler enqueued jobs, so the local producer claims at once. */
  onFired?: () => void;
  /** Longest sleep between passes, in ms, 1 to 30 000. Default 5000. */
  maxSleepMs?: number;
}

export class Cron {
  readonly #options: CronOptions;
  readonly #loop: ServiceLoop;
  readonly #maxSleepMs: number;
  readonly #compiled = new Map<string, CronTimes>();
  readonly #reportedBroken = new Set<string>();

  /** Throws INVALID_OPTIONS (a SpoolError) naming a missing or mistyped dependency. */
  constructor(options: CronOptions) {
    checkDependencies("cron", options, { store: storeWith("listSchedules", "fireScheduleTicks"), types: { methods: ["options"] }, clock: CLOCK, logger: LOGGER }, { onFired: "function" });
    const maxSleepMs = options.maxSleepMs ?? 5000;
    if (!Number.isSafeInteger(maxSleepMs) || maxSleepMs < 1 || maxSleepMs > LONGEST_SLEEP_MS) {
      throw new SpoolError("INVALID_OPTIONS", `maxSleepMs must be an integer from 1 to ${LONGEST_SLEEP_MS}, got ${JSON.stringify(options.maxSleepMs)}`);
    }
    this.#options = options;
    this.#maxSleepMs = maxSleepMs;
    this.#loop = new ServiceLoop({ name: "cron", clock: options.clock, logger: options.logger, runOnce: (now) => this.runOnce(now) });
  }

  /** Starts the loop; idempotent. */
  start(): void {
    this.#loop.start();
  }

  /** Whether this service's passes are failing now, since when, and the last error. */
  get health(): ServiceHealth {
    return this.#loop.health;
  }

  /** Stops after the pass in progress; idempotent and awaitable. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** A schedule was defined or resumed in this process: look again now. */
  wake(): void {
    this.#loop.wake();
  }

  /**
   * Enqueues the due ticks of every unpaused schedule, by its catch-up policy;
   * returns the ms until the earliest next tick, at most `maxSleepMs`.
   */
  async runOnce(now: number): Promise<number> {
    const { store, logger } = this.#options;
    const schedules = await store.listSchedules();
    let earliest = Number.POSITIVE_INFINITY;
    for (const schedule of schedules) {
      if (schedule.paused || schedule.nextFireAt === null) continue;
      if (schedule.nextFireAt > now) {
        earliest = Math.min(earliest, schedule.nextFireAt);
        continue;
      }
      const times = this.#times(schedule);
      if (times === null) continue;
      const due = dueTicks(times, schedule.nextFireAt, now, schedule.catchUp, schedule.noOverlap);
      const rows = this.#tickRows(schedule, due.ticks, now);
      const fired = await store.fireScheduleTicks({
        name: schedule.name,
        cron: schedule.cron,
        timezone: schedule.timezone,
        expected: schedule.nextFireAt,
        rows,
        noOverlap: schedule.noOverlap,
        nextFireAt: due.nextFireAt,
      });
      if (fired.length > 0) {
        this.#options.onFired?.();
        for (const tick of fired) {
          logger.debug("schedule fired", { schedule: schedule.name, scheduledFor: tick.scheduledFor, jobId: tick.id });
          const row = rows.find((r) => r.scheduledFor === tick.scheduledFor);
          if (row) this.#options.events?.emit("enqueued", { job: { id: tick.id, type: row.type, queue: row.queue, status: row.status, runAt: row.runAt, workflowId: row.workflowId } });
        }
      }
      if (due.skipped) {
        logger.info("schedule skipped missed ticks by its catch-up policy", {
          schedule: schedule.name,
          catchUp: schedule.catchUp,
          missedSince: schedule.nextFireAt,
          enqueued: due.ticks.length,
        });
      }
      if (due.nextFireAt !== null) earliest = Math.min(earliest, due.nextFireAt);
    }
    if (earliest === Number.POSITIVE_INFINITY) return this.#maxSleepMs;
    return Math.max(0, Math.min(earliest - this.#options.clock.now(), this.#maxSleepMs));
  }

  /** The schedule's compiled expression, or null (logged once) when the stored one is unusable. */
  #times(schedule: ScheduleRecord): CronTimes | null {
    const key = `${schedule.cron}\u0000${schedule.timezone ?? ""}`;
    let times = this.#compiled.get(key);
    if (times) return times;
    try {
      times = compileCron(schedule.name, schedule.cron, schedule.timezone);
    } catch (error) {
      if (!this.#reportedBroken.has(`${schedule.name}\u0000${key}`)) {
        this.#reportedBroken.add(`${schedule.name}\u0000${key}`);
        this.#options.logger.error("stored schedule cannot be computed; skipping it", { schedule: schedule.name, error: (error as Error).message });
      }
      return null;
    }
    this.#compiled.set(key, times);
    return times;
  }

  /**
   * One job row per tick. A definition stored by another version that no
   * longer validates enqueues nothing: its ticks are logged and passed over,
   * rather than retried in a hot loop.
   */
  #tickRows(schedule: ScheduleRecord, ticks: number[], now: number): NewJobRow[] {
    try {
      return ticks.map((tick) =>
        newJobRow(this.#options.types, schedule.type, schedule.payload, schedule.options, {
          now,
          maxPayloadBytes: this.#options.maxPayloadBytes,
          scheduleName: schedule.name,
          scheduledFor: tick,
        }),
      );
    } catch (error) {
      this.#options.logger.error("schedule's job is invalid; ticks passed over", { schedule: schedule.name, error: (error as Error).message });
      return [];
    }
  }
}
