/**
 * The stats recorder adds what this process's workers did to the database's
 * per-minute stats: jobs completed, attempts failed, jobs dead, and run and
 * wait times as histograms, by minute and type. It counts in memory from the
 * event sink and writes about once a second in one small transaction of its
 * own, so the completion batches on the hot path carry nothing extra; each
 * write also marks this worker seen (`spool_workers`). What was counted but
 * not yet written when a process dies (at most the last second) is lost from
 * the stats, never from the jobs.
 */
import type { Clock } from "../core/clock.ts";
import type { EventSink } from "../core/events.ts";
import { bucketOf } from "../core/histogram.ts";
import type { Logger } from "../core/logger.ts";
import type { Store } from "../store/store.ts";
import type { StatsWrite } from "../store/stats.ts";
import { type ServiceHealth, ServiceLoop } from "./loop.ts";

export interface RecorderOptions {
  store: Store;
  events: EventSink;
  clock: Clock;
  logger: Logger;
  workerId: string;
  leaseMs: number;
  /** How often counts are written. Default 1000 ms. */
  flushMs?: number;
}

/** Per-minute stats older than this are deleted: /stats shows the last hour. */
export const STATS_KEPT_MS = 2 * 60 * 60 * 1000;
/** A worker not seen for this long is dropped from the list. */
export const WORKERS_KEPT_MS = 24 * 60 * 60 * 1000;

const MINUTE_MS = 60_000;

interface MinuteOfType {
  completed: number;
  failed: number;
  dead: number;
  run: Map<number, number>;
  wait: Map<number, number>;
}
const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

export class Recorder {
  readonly #options: RecorderOptions;
  readonly #loop: ServiceLoop;
  readonly #startedAt: number;
  /** minute -> type -> what was counted; nested maps, so no key string is built per job */
  #minutes = new Map<number, Map<string, MinuteOfType>>();
  #lastWrite = -Infinity;

  constructor(options: RecorderOptions) {
    this.#options = options;
    this.#startedAt = options.clock.now();
    this.#loop = new ServiceLoop({ name: "recorder", clock: options.clock, logger: options.logger, runOnce: (now) => this.runOnce(now) });
    const { events, clock } = options;
    events.on("started", ({ job }) => this.#sample(job.startedAt ?? clock.now(), job.type, "wait", (job.startedAt ?? job.runAt) - job.runAt));
    events.on("completed", ({ job, durationMs }) => {
      const at = job.finishedAt ?? clock.now();
      this.#count(at, job.type, 0);
      this.#sample(at, job.type, "run", durationMs);
    });
    events.on("failed", ({ job }) => this.#count(clock.now(), job.type, 1));
    events.on("dead", ({ job }) => this.#count(job.finishedAt ?? clock.now(), job.type, 2));
  }

  #entry(at: number, type: string): MinuteOfType {
    const minute = minuteOf(at);
    let byType = this.#minutes.get(minute);
    if (!byType) this.#minutes.set(minute, (byType = new Map()));
    let entry = byType.get(type);
    if (!entry) byType.set(type, (entry = { completed: 0, failed: 0, dead: 0, run: new Map(), wait: new Map() }));
    return entry;
  }

  #count(at: number, type: string, which: 0 | 1 | 2): void {
    const entry = this.#entry(at, type);
    if (which === 0) entry.completed++;
    else if (which === 1) entry.failed++;
    else entry.dead++;
  }

  #sample(at: number, type: string, kind: "run" | "wait", ms: number): void {
    const histogram = this.#entry(at, type)[kind];
    const bucket = bucketOf(ms);
    histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
  }

  start(): void {
    this.#loop.start();
  }

  /** Whether this service's writes are failing now, since when, and the last error. */
  get health(): ServiceHealth {
    return this.#loop.health;
  }

  /** Writes what is left, then drops this worker from the list of workers. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    try {
      await this.runOnce(this.#options.clock.now(), true);
      await this.#options.store.forgetWorker(this.#options.workerId);
    } catch (error) {
      this.#options.logger.warn("could not write the last stats of this worker", { error: (error as Error)?.message });
    }
  }

  /**
   * Writes the counts gathered since the last write, when there are any or
   * this worker was last marked seen a third of a lease ago; returns the ms
   * until the next pass. A failed write keeps the counts for the next one.
   */
  async runOnce(now: number, force = false): Promise<number> {
    const { flushMs = 1000, leaseMs } = this.#options;
    const idle = this.#minutes.size === 0;
    if (!force && idle && now - this.#lastWrite < leaseMs / 3) return flushMs;
    const minutes = this.#minutes;
    this.#minutes = new Map();
    const rows: StatsWrite["minutes"] = [];
    const latency: StatsWrite["latency"] = [];
    for (const [minute, byType] of minutes) {
      for (const [type, entry] of byType) {
        if (entry.completed + entry.failed + entry.dead > 0) rows.push([minute, type, entry.completed, entry.failed, entry.dead]);
        for (const [bucket, n] of entry.run) latency.push([minute, type, "run", bucket, n]);
        for (const [bucket, n] of entry.wait) latency.push([minute, type, "wait", bucket, n]);
      }
    }
    const write: StatsWrite = {
      minutes: rows,
      latency,
      worker: { id: this.#options.workerId, startedAt: this.#startedAt, now },
      minutesBefore: minuteOf(now - STATS_KEPT_MS),
      workersBefore: now - WORKERS_KEPT_MS,
    };
    try {
      await this.#options.store.writeStats(write);
    } catch (error) {
      // keep what was not written for the next write
      for (const [minute, byType] of minutes) {
        for (const [type, entry] of byType) {
          const kept = this.#entry(minute, type);
          kept.completed += entry.completed;
          kept.failed += entry.failed;
          kept.dead += entry.dead;
          for (const [bucket, n] of entry.run) kept.run.set(bucket, (kept.run.get(bucket) ?? 0) + n);
          for (const [bucket, n] of entry.wait) kept.wait.set(bucket, (kept.wait.get(bucket) ?? 0) + n);
        }
      }
      throw error;
    }
    this.#lastWrite = now;
    return flushMs;
  }
}
