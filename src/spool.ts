/**
 * The library's front door: `createSpool` and the Spool it returns. It checks
 * input, turns calls into named store operations, and starts workers.
 */
import type { Client } from "@libsql/client";
import { type Clock, systemClock } from "./core/clock.ts";
import { DEFAULT_CONCURRENCY, DEFAULT_LEASE_MS, DEFAULT_PREFETCH_PER_SLOT } from "./core/defaults.ts";
import { SpoolError } from "./core/errors.ts";
import { EventSink, SPOOL_EVENT_NAMES, type SpoolEventListener, type SpoolEventName, summaryOf } from "./core/events.ts";
import { percentiles } from "./core/histogram.ts";
import { Metrics } from "./core/metrics.ts";
import type { Job } from "./core/job.ts";
import { isJobId } from "./core/job-id.ts";
import { type JobHandler, JobTypes } from "./core/job-types.ts";
import { type Logger, silentLogger } from "./core/logger.ts";
import { newLeaseToken } from "./core/lease-token.ts";
import { newJobRuns } from "./core/new-job.ts";
import { type EnqueueOptions, type JobTypeOptions, checkJobType, checkName } from "./core/options.ts";
import { DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_PAYLOAD_BYTES } from "./core/payload.ts";
import { DEFAULT_MAX_RESULT_BYTES } from "./services/executor.ts";
import { type ScheduleOptions, type ScheduleSpec, checkScheduleName, compileCron, sameSchedule, validateSchedule } from "./core/schedule.ts";
import { JOB_STATUSES, type JobStatus, isJobStatus } from "./core/states.ts";
import type { Platform } from "./platform/platform.ts";
import type { ServiceHealth } from "./services/loop.ts";
import { DEFAULT_RETENTION_MS } from "./services/reaper.ts";
import { type DrainOptions, checkDrainOptions } from "./core/drain-options.ts";
import { Drain, type DrainSummary } from "./services/drain.ts";
import { SpoolWorker, type StopOptions } from "./services/spool-worker.ts";
import type { NewJobRun } from "./core/job.ts";
import {
  type JobPage,
  type ManageResult,
  type QueueSummary,
  type ScheduleRecord,
  Store,
  type Workflow,
  type WorkflowActionResult,
  type WorkflowPage,
  type WorkflowStatus,
} from "./store/store.ts";
import { WORKFLOW_STATUSES, isWorkflowStatus } from "./core/workflow-status.ts";
import { type SqlExecutor, appSql } from "./store/app-sql.ts";

export interface SpoolOptions {
  /** `file:./data/spool.db` (embedded), `:memory:`, or a `libsql://`/`http(s)://` server URL. */
  url: string;
  authToken?: string;
  /** Use this @libsql/client instead of opening one from `url` (which then only names it in messages). */
  client?: Client;
  /** Where structured logs go. Default: none. */
  logger?: Logger;
  /** Identifies this process in leases and attempt history. Default: a random id. */
  workerId?: string;
  /** Lease length; renewed every third of it while a job runs. Default 30 s. */
  leaseMs?: number;
  /** Largest payload accepted, in bytes of JSON. Default 1 MiB. */
  maxPayloadBytes?: number;
  /**
   * Deepest nesting of arrays and objects in a payload (and, one level more
   * for the wrapper, in an HTTP request body). Deeper is refused with
   * INVALID_PAYLOAD naming the depth. Default 64.
   */
  maxJsonDepth?: number;
  /** Largest handler result kept, in bytes of JSON; a larger one fails the attempt (RESULT_TOO_LARGE). Default 64 KiB. */
  maxResultBytes?: number;
  /**
   * Completed jobs older than this (ms since they finished) are deleted by
   * the reaper of every worker started here, in batches of at most 1,000;
   * 0 keeps them. Dead and cancelled jobs are never deleted by retention.
   * Default 7 days.
   */
  retentionMs?: number;
  /** Injected clock, for tests. */
  clock?: Clock;
  /** Injected randomness for backoff jitter, for tests. */
  random?: () => number;
}

export interface StartOptions {
  /** Jobs in flight at most in this process. Default 10. */
  concurrency?: number;
  /** Take only these queues. Default: every queue. */
  queues?: string[];
  /**
   * Jobs this worker may claim ahead of its free slots and hold, leased, until
   * a slot frees: only while its recent jobs are short, never of a type with a
   * global concurrency or rate limit (the rule is in the README, under
   * Performance). 0 turns it off. Default 32 × `concurrency`, the best of the
   * sizes the bench measured. A job buffered behind an attempt that turns
   * long waits for that worker's slot: set 0 where handlers wait for other
   * jobs to start (two steps that meet each other while both run).
   */
  prefetch?: number;
  /**
   * Accepted for older callers: `start` never serves HTTP. Serve the API with
   * `serve(spool, { port, hostname, routes, apiToken })`, or run the worker.
   * Any other value is refused with INVALID_OPTIONS.
   */
  http?: false;
  /** Fastest idle poll for jobs from other processes. Default 25 ms. */
  minPollMs?: number;
  /** Slowest idle poll. Default 1000 ms. */
  maxPollMs?: number;
}


export type { DrainOptions, DrainSummary };


/** A started worker: `stop()` ends it gracefully. */
export interface SpoolRuntime {
  readonly workerId: string;
  stop(options?: StopOptions): Promise<void>;
}

/** What `spool.health()` found. */
export interface HealthReport {
  /** "ok" when this process can do its work; "unavailable" otherwise, with `reason`. */
  status: "ok" | "unavailable";
  workerId: string;
  /** "unreachable": no answer; "unreadable": it answers, but reading the jobs table fails. */
  database: "ok" | "unreachable" | "unreadable";
  /** Why the status is "unavailable"; null when ok. */
  reason: string | null;
  /** The failure tracking of every service of the workers started here. */
  services: ServiceHealth[];
  /**
   * Milliseconds since this process last committed a write, or null before
   * its first. On a server, a number that keeps growing while reads answer
   * means writes are stuck there.
   */
  lastWriteAgoMs: number | null;
}

/**
 * How long a service may keep failing before the process reports itself
 * unavailable: long enough that one lock held by another process or a
 * checkpoint does not flip it, short enough for a load balancer or an
 * orchestrator to act on a full disk within seconds.
 */
export const FAILING_UNHEALTHY_MS = 5_000;

/**
 * Files up to this size are checked with `PRAGMA quick_check` when a worker
 * starts. quick_check reads every page: 0.22-0.26 s per 100 MB on the 2-core
 * VM Spool is benchmarked on (a 305 MB file with two indexes, warm page
 * cache), more from a cold disk. So 256 MB adds well under a second to a
 * start, while a file of gigabytes would wait tens of seconds; a larger file
 * is left to the services' write errors and the health check.
 */
export const QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024;

export interface EnqueueResult {
  id: string;
  deduplicated: boolean;
}

/** What `startWorkflow` returns: the new workflow's id and its first job's. */
export interface StartedWorkflow {
  workflowId: string;
  id: string;
}

export interface ListWorkflowsQuery {
  status?: WorkflowStatus;
  /** The type of the workflow's first job. */
  type?: string;
  /** Default 50, at most 500. */
  limit?: number;
  cursor?: string;
}

export interface ListJobsQuery {
  status: JobStatus;
  type?: string;
  /** Only jobs of this queue. */
  queue?: string;
  /** Only jobs of this workflow. */
  workflowId?: string;
  /**
   * Only jobs whose payload, as JSON text, contains this string
   * (case-sensitive, 1-200 characters): `A-1` finds `{"orderId":"A-1"}`.
   */
  q?: string;
  /** Default 50, at most 500. */
  limit?: number;
  cursor?: string;
}

/** Where a bulk operation stands: `done` of about `total` jobs (counted when it started) handled so far. */
export interface BulkProgress {
  done: number;
  total: number;
}

export interface RetryDeadOptions {
  /** Only dead jobs of this type. */
  type?: string;
  /** Only dead jobs of this queue. */
  queue?: string;
  /** Called after each batch (of at most 1,000 jobs). */
  onProgress?: (progress: BulkProgress) => void;
}

export interface PurgeOptions {
  /** The finished status to delete: `completed`, `dead` or `cancelled`. */
  status: "completed" | "dead" | "cancelled";
  /** Only jobs that finished at least this long ago (ms). Default: every one. */
  olderThanMs?: number;
  /** Only jobs of this type. */
  type?: string;
  /** Called after each batch (of at most 1,000 jobs); `done` counts the jobs looked at. */
  onProgress?: (progress: BulkProgress) => void;
}

/** Latency percentiles of one job type, in ms; null when nothing was measured. */
export interface LatencyPercentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** What `spool.stats()` (and `GET /stats`) answers. Counts are the database's; per-minute figures are what every worker on it wrote. */
export interface SpoolStats {
  /** Jobs by status. */
  counts: Record<JobStatus, number>;
  /** Jobs by type, then status; a type with no job is absent. */
  byType: Record<string, Record<JobStatus, number>>;
  /** Jobs by queue, then status; a queue with no job is absent. */
  byQueue: Record<string, Record<JobStatus, number>>;
  /** The last hour, oldest minute first, 60 entries: jobs completed, attempts failed, jobs dead. `minute` is the epoch ms of its start. */
  throughput: Array<{ minute: number; completed: number; failed: number; dead: number }>;
  /** Per type, over the last 15 minutes: run time of completed jobs and wait from runAt to start, in ms (within about 5%). */
  latency: Record<string, { run: LatencyPercentiles; wait: LatencyPercentiles }>;
  /** Workers seen in the last 24 hours, most recently seen first; `lastSeenAt` is epoch ms. */
  workers: Array<{ id: string; lastSeenAt: number }>;
  /** Every schedule with its next fire time (epoch ms, null when it never fires again). */
  schedules: Array<{ name: string; cron: string; timezone: string | null; type: string; paused: boolean; nextFireAt: number | null; lastFireAt: number | null }>;
}

const MINUTE_MS = 60_000;

export class Spool {
  readonly workerId: string;
  private readonly store: Store;
  /**
   * Your own SQL on this Spool's database, for a jobs module that keeps its
   * own tables beside the queue (the bundled order pipeline keeps its orders
   * there). `execute(sql, args?)` runs one statement, `batch([{ sql, args }])`
   * runs several in one write transaction. It shares the Spool's connection:
   * WAL on a file, the wait for another process's lock, storage errors as
   * SpoolError codes. A statement naming one of Spool's own `spool_` tables
   * is refused with INVALID_OPTIONS; SQL errors reject as libSQL reports them.
   */
  readonly sql: SqlExecutor;
  private readonly types = new JobTypes();
  /**
   * The clock this Spool reads (`options.clock`, default the system clock).
   * Public because jobs modules time their own work by it (the bundled order
   * pipeline does), so a test's clock moves them too.
   */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly leaseMs: number;
  readonly maxPayloadBytes: number;
  readonly maxJsonDepth: number;
  readonly maxResultBytes: number;
  readonly retentionMs: number;
  /** This process's event sink: the services report committed state changes to it. */
  readonly events: EventSink;
  readonly #metrics: Metrics;
  readonly #random: (() => number) | undefined;
  readonly #workers = new Set<SpoolWorker>();
  readonly #drains = new Set<Drain>();
  /** Type options whose concurrency and rate limits are stored, so a drain does not store them again. */
  readonly #savedLimits = new WeakSet<object>();
  /** Schedules defined through this Spool, to refuse a second, different definition of a name. */
  readonly #schedules = new Map<string, ScheduleSpec>();
  #closed = false;

  constructor(store: Store, options: SpoolOptions) {
    this.store = store;
    this.sql = appSql(store.db);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.workerId = options.workerId ?? `worker-${crypto.randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.maxJsonDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#random = options.random;
    this.events = new EventSink(this.logger);
    this.#metrics = new Metrics(this.events);
  }

  /**
   * Calls `listener` on every `event` this process commits: `enqueued`,
   * `started`, `completed`, `failed` ({ job, error, willRetry, retryAt }, for
   * every failed attempt, the last one too), `dead` (after the last `failed`),
   * `cancelled`, `released` (a fan-in job became runnable) and
   * `lease_expired`. Listeners run after the change is committed, in the
   * order the changes were written; one that throws (or rejects) is logged
   * and never affects the job or the worker. Events are this process's view:
   * jobs run by other processes fire there. Throws INVALID_OPTIONS for an
   * unknown event or a listener that is not a function.
   */
  on<E extends SpoolEventName>(event: E, listener: SpoolEventListener<E>): void {
    checkListener(event, listener);
    this.events.on(event, listener);
  }

  /** Removes a listener added with `on`; one never added is ignored. Throws INVALID_OPTIONS for an unknown event. */
  off<E extends SpoolEventName>(event: E, listener: SpoolEventListener<E>): void {
    checkListener(event, listener);
    this.events.off(event, listener);
  }

  /**
   * Defines how jobs of `type` run. Replaces an earlier definition of the same
   * type. Throws INVALID_OPTIONS naming the bad option.
   */
  define<P = any>(type: string, handler: JobHandler<P>, options?: JobTypeOptions): void {
    this.#checkOpen();
    this.types.define(type, handler as JobHandler, options);
  }

  /**
   * Enqueues one job. Throws INVALID_PAYLOAD / INVALID_OPTIONS and writes
   * nothing on bad input. With an idempotency key already held, returns the
   * holder's id and `deduplicated: true`.
   */
  async enqueue(type: string, payload: unknown, options?: EnqueueOptions): Promise<EnqueueResult> {
    const [result] = await this.enqueueMany([{ type, payload, options }]);
    return result!;
  }

  /** Enqueues many jobs in one transaction; results in input order. All are validated before any is written. */
  async enqueueMany(items: Array<{ type: string; payload: unknown; options?: EnqueueOptions }>): Promise<EnqueueResult[]> {
    this.#checkOpen();
    const now = this.clock.now();
    const runs = newJobRuns(this.types, items, { now, maxPayloadBytes: this.maxPayloadBytes, maxJsonDepth: this.maxJsonDepth });
    await this.#joinDependencies(runs);
    const results = await this.store.insertJobs(runs, now);
    if (this.events.has("enqueued")) {
      let i = 0;
      for (const { row, payloads } of runs) {
        for (let k = 0; k < payloads.length; k++, i++) {
          const result = results[i]!;
          if (result.deduplicated) continue;
          this.events.emit("enqueued", { job: { id: result.id, type: row.type, queue: row.queue, status: row.status, runAt: row.runAt, workflowId: row.workflowId } });
        }
      }
    }
    let earliest: number | null = null;
    let ready = false;
    for (const { row } of runs) {
      if (row.status === "pending") ready = true;
      else if (row.status === "scheduled" && (earliest === null || row.runAt < earliest)) earliest = row.runAt;
    }
    for (const worker of this.#workers) {
      worker.notifyEnqueued(ready, earliest);
    }
    return results;
  }

  /**
   * Checks the ids named in `after`: each must exist, all of one job's in one
   * workflow, which the job joins. Throws INVALID_OPTIONS naming the id.
   */
  async #joinDependencies(runs: NewJobRun[]): Promise<void> {
    const ids = new Set<string>();
    for (const { row } of runs) for (const d of row.after ?? []) if ("id" in d) ids.add(d.id);
    if (ids.size === 0) return;
    const workflows = await this.store.workflowsOfJobs([...ids]);
    for (const { row } of runs) {
      if (row.after === null) continue;
      let joined: string | null | undefined;
      for (const d of row.after) {
        if (!("id" in d)) continue;
        if (!workflows.has(d.id)) throw new SpoolError("INVALID_OPTIONS", `after names job ${d.id}, which does not exist`);
        const workflow = workflows.get(d.id)!;
        if (joined !== undefined && workflow !== joined) {
          throw new SpoolError("INVALID_OPTIONS", `after names job ${d.id} of workflow ${JSON.stringify(workflow)} and a job of workflow ${JSON.stringify(joined)}: a job waits only within one workflow`);
        }
        joined = workflow;
      }
      if (row.workflowId !== null && joined !== undefined && joined !== row.workflowId) {
        throw new SpoolError("INVALID_OPTIONS", `workflowId ${JSON.stringify(row.workflowId)} differs from the workflow ${JSON.stringify(joined)} of the jobs in after`);
      }
      row.workflowId = joined ?? row.workflowId;
    }
  }

  /**
   * Starts a workflow: enqueues its first job with a new workflow id (or
   * `options.workflowId`), which every job it stages inherits. Takes the
   * options of `enqueue`; with an idempotency key already held, returns the
   * holder's workflow and id. Throws as `enqueue` does.
   */
  async startWorkflow(type: string, payload: unknown, options: EnqueueOptions = {}): Promise<StartedWorkflow> {
    this.#checkOpen();
    if (typeof options !== "object" || options === null) {
      throw new SpoolError("INVALID_OPTIONS", `startWorkflow options must be an object, got ${JSON.stringify(options)}`);
    }
    const workflowId = options.workflowId ?? crypto.randomUUID();
    const { id, deduplicated } = await this.enqueue(type, payload, { ...options, workflowId });
    if (!deduplicated) return { workflowId, id };
    const holder = await this.store.getJob(id);
    return { workflowId: holder?.workflowId ?? workflowId, id };
  }

  /** The workflow with its jobs (each with its `after` ids, result, error and warnings), or null. */
  async getWorkflow(id: string): Promise<Workflow | null> {
    this.#checkOpen();
    if (typeof id !== "string") return null;
    return this.store.getWorkflow(id);
  }

  /** A page of workflows, newest first; pass `nextCursor` back for the next page. Throws INVALID_OPTIONS for a bad filter. */
  async listWorkflows(query: ListWorkflowsQuery = {}): Promise<WorkflowPage> {
    this.#checkOpen();
    if (query.status !== undefined && !isWorkflowStatus(query.status)) {
      throw new SpoolError("INVALID_OPTIONS", `status must be one of ${WORKFLOW_STATUSES.join(", ")}; got ${JSON.stringify(query.status)}`);
    }
    if (query.type !== undefined) checkJobType(query.type);
    const limit = query.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) {
      throw new SpoolError("INVALID_OPTIONS", `limit must be an integer from 1 to 500, got ${JSON.stringify(query.limit)}`);
    }
    if (query.cursor !== undefined && !/^\d{1,18}$/.test(query.cursor)) {
      throw new SpoolError("INVALID_OPTIONS", `cursor ${JSON.stringify(query.cursor)} is not one this API returned`);
    }
    return this.store.listWorkflows({ status: query.status, type: query.type, limit, cursor: query.cursor });
  }

  /**
   * Cancels every unfinished job of a workflow: blocked, scheduled and pending
   * ones at once; running ones are asked to stop, as `cancel` does, and what
   * they stage is discarded. Returns "cancelled", or "cancelling" while steps
   * still run. Throws WORKFLOW_NOT_FOUND, or INVALID_STATE for a finished workflow.
   */
  async cancelWorkflow(id: string): Promise<{ status: "cancelled" | "cancelling"; jobs: number }> {
    this.#checkOpen();
    const result = this.#workflowResult(await this.store.cancelWorkflow(String(id), this.clock.now()), id, "cancel");
    for (const jobId of result.running) {
      for (const worker of this.#workers) {
        worker.stopAttempt(jobId, "cancelled");
      }
    }
    return { status: result.running.length > 0 ? "cancelling" : "cancelled", jobs: result.jobs };
  }

  /**
   * Sends a workflow's dead jobs back to pending (attempts reset) and the jobs
   * cancelled because of them back to blocked; returns how many jobs moved.
   * Throws WORKFLOW_NOT_FOUND, or INVALID_STATE when it has no dead job.
   */
  async retryWorkflow(id: string): Promise<{ jobs: number }> {
    this.#checkOpen();
    const result = this.#workflowResult(await this.store.retryWorkflow(String(id), this.clock.now()), id, "retry");
    for (const worker of this.#workers) worker.wake();
    return { jobs: result.jobs };
  }

  #workflowResult(result: WorkflowActionResult, id: string, action: string): { jobs: number; running: string[] } {
    if (result.ok) return result;
    if (result.reason === "not_found") throw new SpoolError("WORKFLOW_NOT_FOUND", `no workflow has id ${JSON.stringify(String(id))}`);
    const why = action === "retry" && result.status !== "running" ? "it has no dead job" : `it is ${result.status}`;
    throw new SpoolError("INVALID_STATE", `cannot ${action} workflow ${JSON.stringify(String(id))}: ${why}`);
  }

  /** The job, with its attempt history, or null. */
  async getJob(id: string): Promise<Job | null> {
    this.#checkOpen();
    return this.store.getJob(String(id));
  }

  /**
   * A page of jobs in one status, oldest first; pass `nextCursor` back for
   * the next page. `type` narrows through the status's index. With `queue`,
   * `workflowId` or `q`, a page tests the next 10,000 jobs after the cursor
   * (of the workflow with `workflowId`, of the finished status and type with
   * `type`, else of the whole table), so it costs a bounded amount however
   * rare the matches are; such a page may hold fewer than `limit` jobs, or
   * none, and still have a `nextCursor`. The listing ends when `nextCursor`
   * is null. Throws INVALID_OPTIONS naming a bad value.
   */
  async listJobs(query: ListJobsQuery): Promise<JobPage> {
    this.#checkOpen();
    if (!isJobStatus(query?.status)) {
      throw new SpoolError("INVALID_OPTIONS", `status must be one of blocked, scheduled, pending, running, completed, dead, cancelled; got ${JSON.stringify(query?.status)}`);
    }
    if (query.type !== undefined) checkJobType(query.type);
    const limit = query.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) {
      throw new SpoolError("INVALID_OPTIONS", `limit must be an integer from 1 to 500, got ${JSON.stringify(query.limit)}`);
    }
    if (query.cursor !== undefined && !isJobId(query.cursor)) {
      throw new SpoolError("INVALID_OPTIONS", `cursor ${JSON.stringify(query.cursor)} is not one this API returned`);
    }
    const queue = query.queue === undefined ? undefined : checkName(query.queue, "queue name");
    const workflowId = query.workflowId === undefined ? undefined : checkWorkflowId(query.workflowId);
    if (query.q !== undefined && (typeof query.q !== "string" || query.q.length === 0 || query.q.length > 200)) {
      throw new SpoolError("INVALID_OPTIONS", `q must be a string of 1 to 200 characters, got ${JSON.stringify(query.q)}`);
    }
    return this.store.listJobs({ status: query.status, type: query.type, queue, workflowId, q: query.q, limit, cursor: query.cursor });
  }

  /** Counts of jobs by status. */
  async countJobs(): Promise<Record<JobStatus, number>> {
    this.#checkOpen();
    return this.store.countJobsByStatus();
  }

  /**
   * Counts of jobs by type, then by status (all seven statuses per type); a
   * type with no job is absent. A pending count on a type that no running
   * worker defines is work waiting for a worker that does.
   */
  async countJobsByType(): Promise<Record<string, Record<JobStatus, number>>> {
    this.#checkOpen();
    return this.store.countJobsByType();
  }

  /**
   * Counts by status, type and queue, throughput per minute over the last
   * hour, latency percentiles per type over the last 15 minutes, workers and
   * schedules (see SpoolStats). Finished jobs are counted from a table kept
   * by triggers and active ones from their indexes, so the answer costs the
   * same at a million jobs as at a hundred, plus the jobs waiting or running.
   */
  async stats(): Promise<SpoolStats> {
    this.#checkOpen();
    const now = this.clock.now();
    const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const firstMinute = current - 59 * MINUTE_MS;
    const [rows, schedules] = await Promise.all([this.store.readStats(firstMinute, current - 14 * MINUTE_MS), this.store.listSchedules()]);
    const counts = emptyCounts();
    const byType: Record<string, Record<JobStatus, number>> = {};
    const byQueue: Record<string, Record<JobStatus, number>> = {};
    for (const row of rows.counts.byQueue) {
      counts[row.status] += row.n;
      (byQueue[row.queue] ??= emptyCounts())[row.status] += row.n;
    }
    for (const row of rows.counts.byType) (byType[row.type] ??= emptyCounts())[row.status] += row.n;
    const perMinute = new Map(rows.throughput.map((m) => [m.minute, m]));
    const throughput = Array.from({ length: 60 }, (_, i) => {
      const minute = firstMinute + i * MINUTE_MS;
      const m = perMinute.get(minute);
      return { minute, completed: m?.completed ?? 0, failed: m?.failed ?? 0, dead: m?.dead ?? 0 };
    });
    const buckets = new Map<string, { run: Map<number, number>; wait: Map<number, number> }>();
    for (const { type, kind, bucket, n } of rows.latency) {
      let entry = buckets.get(type);
      if (!entry) buckets.set(type, (entry = { run: new Map(), wait: new Map() }));
      entry[kind].set(bucket, n);
    }
    const latency: SpoolStats["latency"] = {};
    for (const [type, entry] of [...buckets].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      latency[type] = { run: percentiles(entry.run), wait: percentiles(entry.wait) };
    }
    return {
      counts,
      byType: sortedRecord(byType),
      byQueue: sortedRecord(byQueue),
      throughput,
      latency,
      workers: rows.workers,
      schedules: schedules.map((s) => ({
        name: s.name, cron: s.cron, timezone: s.timezone, type: s.type, paused: s.paused, nextFireAt: s.nextFireAt, lastFireAt: s.lastFireAt,
      })),
    };
  }

  /**
   * The Prometheus text exposition (format 0.0.4): this process's counters
   * (`spool_jobs_enqueued_total`, `_completed_total`, `_failed_total`,
   * `_retried_total`, `_dead_total` by type and queue) and histograms
   * (`spool_job_run_seconds`, `spool_job_wait_seconds` by type), and the
   * database's gauges read now (`spool_jobs` by queue and status,
   * `spool_queue_oldest_pending_seconds` by queue, `spool_workers`).
   */
  async metrics(): Promise<string> {
    this.#checkOpen();
    const now = this.clock.now();
    const [rows, workers] = await Promise.all([this.store.readQueueCounts(), this.store.countWorkersSeen(now - this.leaseMs)]);
    const byQueue = new Map<string, { counts: Record<JobStatus, number>; oldest: number | null }>();
    for (const row of rows) {
      let queue = byQueue.get(row.queue);
      if (!queue) byQueue.set(row.queue, (queue = { counts: emptyCounts(), oldest: null }));
      queue.counts[row.status] += row.n;
      if (row.status === "pending" && row.oldestRunAt !== null) queue.oldest = Math.min(queue.oldest ?? row.oldestRunAt, row.oldestRunAt);
    }
    const queues = [...byQueue].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return this.#metrics.render({
      jobs: queues.flatMap(([queue, { counts }]) => Object.entries(counts).map(([status, n]) => ({ queue, status, n }))),
      oldestPendingMs: queues.map(([queue, { oldest }]) => ({ queue, ms: oldest === null ? 0 : Math.max(0, now - oldest) })),
      workers,
    });
  }

  /**
   * Puts a dead or cancelled job back to pending with a fresh attempt count.
   * Throws JOB_NOT_FOUND, or INVALID_STATE for a job in another status (for a
   * running one, also one being cancelled, naming its attempt and worker).
   */
  async retry(id: string): Promise<void> {
    this.#checkOpen();
    this.#throwUnlessOk(await this.store.replayJob(String(id), this.clock.now()), id, "retry");
    for (const worker of this.#workers) worker.wake();
  }

  /**
   * Puts every dead job (of `type` and of `queue`, when given) back to
   * pending with a fresh attempt count; returns how many. Works in batches of
   * at most 1,000 jobs, each its own short write, yielding between them, so
   * replaying a large dead-letter queue never holds the database for long;
   * workers start on each batch as it lands. A job that dies again while this
   * runs stays dead. Throws INVALID_OPTIONS naming a bad filter.
   */
  async retryDead(filter: RetryDeadOptions = {}): Promise<number> {
    this.#checkOpen();
    checkKnownKeys(filter, ["type", "queue", "onProgress"], "retryDead");
    const type = filter.type === undefined ? null : checkJobType(filter.type);
    const queue = filter.queue === undefined ? null : checkName(filter.queue, "queue name");
    const onProgress = checkProgressListener(filter.onProgress);
    const total = onProgress ? await this.store.countDeadJobs({ type, queue }) : 0;
    let done = 0;
    let cursor = null;
    do {
      const batch = await this.store.replayDeadBatch({ type, queue }, cursor, this.clock.now());
      cursor = batch.next;
      done += batch.replayed;
      if (batch.replayed > 0) for (const worker of this.#workers) worker.wake();
      onProgress?.({ done, total: Math.max(total, done) });
      if (cursor) await this.clock.sleep(0);
    } while (cursor);
    return done;
  }

  /**
   * Deletes finished jobs of one status (`completed`, `dead` or `cancelled`),
   * of `type` and finished at least `olderThanMs` ago when given, with their
   * attempt history; returns how many. Jobs of a workflow that still has
   * unfinished jobs are kept. A deleted job's idempotency key is free again.
   * Works in batches of at most 1,000 jobs, yielding between them. Throws
   * INVALID_OPTIONS naming a bad value, such as an active status.
   */
  async purge(options: PurgeOptions): Promise<number> {
    this.#checkOpen();
    if (typeof options !== "object" || options === null) throw new SpoolError("INVALID_OPTIONS", "purge takes { status, olderThanMs?, type? }");
    checkKnownKeys(options, ["status", "olderThanMs", "type", "onProgress"], "purge");
    const status = options.status;
    if (!(["completed", "dead", "cancelled"] as unknown[]).includes(status)) {
      throw new SpoolError("INVALID_OPTIONS", `purge deletes finished jobs only: status must be completed, dead or cancelled, got ${JSON.stringify(options.status)}`);
    }
    const olderThanMs = options.olderThanMs;
    if (olderThanMs !== undefined && !(Number.isSafeInteger(olderThanMs) && olderThanMs >= 0)) {
      throw new SpoolError("INVALID_OPTIONS", `olderThanMs must be a non-negative integer of milliseconds, got ${JSON.stringify(olderThanMs)}`);
    }
    const type = options.type === undefined ? null : checkJobType(options.type);
    const onProgress = checkProgressListener(options.onProgress);
    const filter = { status, type, finishedBy: olderThanMs === undefined ? null : this.clock.now() - olderThanMs };
    const total = onProgress ? await this.store.countPurgeable(filter) : 0;
    let purged = 0;
    let done = 0;
    let cursor = null;
    do {
      const batch = await this.store.purgeBatch(filter, cursor);
      cursor = batch.next;
      purged += batch.purged;
      done += batch.examined;
      onProgress?.({ done, total: Math.max(total, done) });
      if (cursor) await this.clock.sleep(0);
    } while (cursor);
    return purged;
  }

  /**
   * Cancels a scheduled or pending job at once; a running job is asked to stop
   * through its signal and ends cancelled unless it completes first. It stays
   * running, its lease held, until its handler really ends, so it is neither
   * retried nor claimed again meanwhile. Returns
   * the status the job has now: "cancelled" or "cancelling". Throws
   * JOB_NOT_FOUND, or INVALID_STATE for a finished job.
   */
  async cancel(id: string): Promise<"cancelled" | "cancelling"> {
    this.#checkOpen();
    const result = await this.store.cancelJob(String(id), this.clock.now());
    this.#throwUnlessOk(result, id, "cancel");
    // a running job's cancellation is reported when its attempt ends (executor)
    if (result.ok && result.status === "cancelled" && this.events.has("cancelled")) {
      const job = await this.store.getJob(String(id));
      if (job) this.events.emit("cancelled", { job: summaryOf(job) });
    }
    if (result.ok && result.status === "cancelling") {
      for (const holder of [...this.#workers, ...this.#drains]) {
        holder.stopAttempt(String(id), "cancelled");
      }
    }
    return (result as { status: "cancelled" | "cancelling" }).status;
  }

  /** Holds a queue in every process: running jobs finish, nothing new is claimed. */
  async pauseQueue(name: string): Promise<void> {
    this.#checkOpen();
    await this.store.setQueuePaused(checkName(name, "queue name"), true);
  }

  async resumeQueue(name: string): Promise<void> {
    this.#checkOpen();
    await this.store.setQueuePaused(checkName(name, "queue name"), false);
    for (const worker of this.#workers) worker.wake();
  }

  /**
   * Sets the starvation guard of a queue: a pending job gains one priority
   * level (10) per `agingMs` waited. `null` turns it off (the default).
   */
  async setQueueAging(name: string, agingMs: number | null): Promise<void> {
    this.#checkOpen();
    if (agingMs !== null && !(Number.isSafeInteger(agingMs) && agingMs > 0)) {
      throw new SpoolError("INVALID_OPTIONS", `agingMs must be a positive integer or null, got ${JSON.stringify(agingMs)}`);
    }
    await this.store.setQueueAging(checkName(name, "queue name"), agingMs);
  }

  /**
   * Every queue that has jobs or settings, by name: whether it is paused, its
   * jobs by status, and how long its longest-waiting pending job has been
   * runnable (ms, null when none is pending). Finished jobs are counted from
   * a table kept by triggers and active ones from their indexes, as in
   * stats(): the cost grows with the jobs waiting or running, not the table.
   */
  async listQueues(): Promise<QueueSummary[]> {
    this.#checkOpen();
    return this.store.listQueues(this.clock.now());
  }

  /**
   * Defines (or re-defines identically) a cron schedule, stored in the
   * database so that every worker's scheduler fires it, each tick exactly once.
   * `cron` is croner syntax: 5 fields, 6 with seconds first, 7 with years, or
   * a nickname (@hourly, @daily, @weekly, @monthly, @yearly), read in
   * `timezone` (default UTC). Each tick enqueues `type` with `payload`; the
   * job's `scheduledFor` is the tick's fire time. A schedule already stored
   * with the same expression and zone keeps its next fire time, so a restarted
   * worker catches up by `catchUp`; a changed expression starts at its next
   * tick. Throws INVALID_CRON (expression or zone, naming both), INVALID_OPTIONS,
   * INVALID_PAYLOAD, or DUPLICATE_SCHEDULE when this Spool already defined
   * `name` differently (`unschedule` it first).
   */
  async schedule(name: string, cron: string, options: ScheduleOptions): Promise<void> {
    this.#checkOpen();
    const now = this.clock.now();
    const { spec, times } = validateSchedule(name, cron, options, { now, maxPayloadBytes: this.maxPayloadBytes, maxJsonDepth: this.maxJsonDepth });
    const known = this.#schedules.get(spec.name);
    if (known && !sameSchedule(known, spec)) {
      throw new SpoolError(
        "DUPLICATE_SCHEDULE",
        `schedule ${JSON.stringify(spec.name)} is already defined in this process as ${describeSchedule(known)}; ` +
          `refusing a different definition (${describeSchedule(spec)}). Rename it, or unschedule it first`,
      );
    }
    this.#schedules.set(spec.name, spec);
    try {
      await this.store.upsertSchedule(spec, times.nextAfter(now), now);
    } catch (error) {
      if (!known) this.#schedules.delete(spec.name);
      throw error;
    }
    for (const worker of this.#workers) worker.notifySchedulesChanged();
  }

  /** Removes a schedule from every process; jobs it already enqueued stay. Returns false when there was none. */
  async unschedule(name: string): Promise<boolean> {
    this.#checkOpen();
    checkScheduleName(name);
    this.#schedules.delete(name);
    return this.store.deleteSchedule(name);
  }

  /** Every stored schedule with its state and last/next fire times (epoch ms), by name. */
  async listSchedules(): Promise<ScheduleRecord[]> {
    this.#checkOpen();
    return this.store.listSchedules();
  }

  /** Stops a schedule firing in every process until resumed. Throws SCHEDULE_NOT_FOUND. */
  async pauseSchedule(name: string): Promise<void> {
    this.#checkOpen();
    checkScheduleName(name);
    if (!(await this.store.pauseSchedule(name))) throw scheduleNotFound(name);
  }

  /**
   * Resumes a paused schedule in every process at its next tick after now;
   * ticks that passed while paused are not caught up. Throws SCHEDULE_NOT_FOUND.
   */
  async resumeSchedule(name: string): Promise<void> {
    this.#checkOpen();
    checkScheduleName(name);
    // a redefinition between the read and the write makes the write miss; read again
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await this.store.getSchedule(name);
      if (!stored) throw scheduleNotFound(name);
      const next = compileCron(name, stored.cron, stored.timezone).nextAfter(this.clock.now());
      if (await this.store.resumeSchedule(stored, next)) {
        for (const worker of this.#workers) worker.notifySchedulesChanged();
        return;
      }
    }
    throw new SpoolError("DATABASE_BUSY", `schedule ${JSON.stringify(name)} kept changing while being resumed; try again`);
  }

  /**
   * Starts a worker in this process. A local database file of up to 256 MB
   * is first checked with `PRAGMA quick_check`; a damaged one makes `start`
   * throw DATABASE_CORRUPT naming the file. Then it claims ready jobs of the
   * types defined here (jobs of other types stay pending for a worker that
   * defines them; with no type defined it claims nothing) from every queue,
   * or only `queues`, and runs the promoter, cron scheduler, reaper, heartbeat
   * and ager (the starvation guard of queues given an aging period) beside it. It opens no port: `serve(spool, ...)` serves the HTTP
   * API. Throws INVALID_OPTIONS for a bad option, and for an `http` option
   * other than false.
   */
  async start(options: StartOptions = {}): Promise<SpoolRuntime> {
    this.#checkOpen();
    // Before any claim: a damaged page found here stops the worker with the
    // file named, instead of failing some jobs' writes later.
    await this.store.quickCheck(QUICK_CHECK_MAX_BYTES, this.store.db.url.replace(/^file:/, ""));
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new SpoolError("INVALID_OPTIONS", `concurrency must be a positive integer, got ${JSON.stringify(options.concurrency)}`);
    }
    const prefetch = options.prefetch ?? DEFAULT_PREFETCH_PER_SLOT * concurrency;
    if (!Number.isSafeInteger(prefetch) || prefetch < 0) {
      throw new SpoolError("INVALID_OPTIONS", `prefetch must be a non-negative integer, got ${JSON.stringify(options.prefetch)}`);
    }
    if (options.queues !== undefined && (!Array.isArray(options.queues) || options.queues.length === 0)) {
      throw new SpoolError("INVALID_OPTIONS", "queues must be a non-empty array of queue names");
    }
    const queues = options.queues ? options.queues.map((queue) => checkName(queue, "queue name")) : null;
    if (options.http !== undefined && options.http !== false) {
      throw new SpoolError(
        "INVALID_OPTIONS",
        `start() no longer serves HTTP (http: ${JSON.stringify(options.http)}); serve the API with serve(spool, { port, hostname, routes, apiToken }) from "spool", or drop the option`,
      );
    }
    await this.#saveTypeLimits();
    const worker = new SpoolWorker({
      store: this.store,
      types: this.types,
      clock: this.clock,
      logger: this.logger,
      workerId: this.workerId,
      concurrency,
      queues,
      leaseMs: this.leaseMs,
      prefetch,
      maxPayloadBytes: this.maxPayloadBytes,
      maxJsonDepth: this.maxJsonDepth,
      maxResultBytes: this.maxResultBytes,
      minPollMs: options.minPollMs,
      maxPollMs: options.maxPollMs,
      newToken: newLeaseToken,
      random: this.#random,
      events: this.events,
      retentionMs: this.retentionMs,
    });
    this.#workers.add(worker);
    worker.start();
    let stopping: Promise<void> | null = null;
    return {
      workerId: this.workerId,
      stop: (stopOptions?: StopOptions) =>
        (stopping ??= (async () => {
          await worker.stop(stopOptions);
          this.#workers.delete(worker);
        })()),
    };
  }

  /**
   * Runs one bounded pass of everything a worker does, for platforms that run
   * code per request or per cron trigger: the promoter, the cron scheduler
   * (each due tick fires exactly once however many drains and workers run)
   * and the reaper, then claims and runs due jobs, up to `concurrency` at
   * once, until nothing is due, `maxJobs` attempts were started, or the
   * budget is spent. It never waits for jobs that become due later.
   *
   * Handlers get the budget less a reserve for writing outcomes (a tenth of
   * the budget, at most 1 s). A job whose timeoutMs does not fit in the time
   * left is not started: it is handed back unstarted, its attempt not spent.
   * A job without a timeoutMs still running when handler time is over is
   * handed back as a stopping worker does (pending, attempt not spent), so
   * give edge job types a timeoutMs. Leases, fencing, timeouts, limits and
   * chained jobs hold as in a worker, and like a worker it claims only the
   * types defined here.
   *
   * Resolves to `{ ran, completed, failed, retried, remaining, nextDueAt }`:
   * attempts started; those that completed, failed for good (dead, or
   * cancelled while running) and were scheduled again; jobs due now in the
   * drained queues (of types defined here, queues not paused) that it did not
   * run, handed-back ones included; and when the next scheduled job or cron
   * tick is due (epoch ms; null for none), for scheduling the next trigger.
   * With `remaining` > 0, trigger again at once.
   *
   * Throws INVALID_OPTIONS naming a bad option and CLOSED on a closed Spool;
   * rejects with the store's error (DATABASE_UNAVAILABLE, ...) when the
   * database fails, after handing back what it holds. Outcomes it cannot
   * write by the end of the budget are left to lease expiry.
   */
  async drain(options: DrainOptions): Promise<DrainSummary> {
    this.#checkOpen();
    checkDrainOptions(options);
    const { budgetMs, maxJobs, queues, concurrency = DEFAULT_CONCURRENCY, signal } = options;
    await this.#saveTypeLimits();
    const drain: Drain = new Drain({
      store: this.store,
      types: this.types,
      clock: this.clock,
      logger: this.logger,
      workerId: this.workerId,
      leaseMs: this.leaseMs,
      maxPayloadBytes: this.maxPayloadBytes,
      maxJsonDepth: this.maxJsonDepth,
      random: this.#random,
      events: this.events,
      newToken: newLeaseToken,
      budgetMs,
      maxJobs: maxJobs ?? Number.POSITIVE_INFINITY,
      queues: queues ? queues.map((queue) => checkName(queue, "queue name")) : null,
      concurrency,
      signal,
      isHeldHere: (job): boolean =>
        [...this.#drains].some((d) => d !== drain && d.holds(job)) ||
        [...this.#workers].some((w) => w.holds(job)),
    });
    this.#drains.add(drain);
    try {
      return await drain.run();
    } finally {
      this.#drains.delete(drain);
    }
  }

  /** Stores each defined type's concurrency and rate limit, which every claim reads; once per definition. */
  async #saveTypeLimits(): Promise<void> {
    for (const type of this.types.names()) {
      const typeOptions = this.types.options(type)!;
      if (this.#savedLimits.has(typeOptions)) continue;
      await this.store.saveTypeLimits(type, typeOptions.concurrency, typeOptions.rateLimit);
      this.#savedLimits.add(typeOptions);
    }
  }

  /**
   * Whether this process can do its work: the database answers, a read of
   * the jobs table succeeds, and no service of a worker started here has been
   * failing for longer than 5 s (FAILING_UNHEALTHY_MS; a full disk, a file
   * that refuses writes). Never throws; a closed Spool is "unavailable".
   */
  async health(): Promise<HealthReport> {
    const services = [...this.#workers].flatMap((worker) => worker.health());
    const report = (database: HealthReport["database"], reason: string | null): HealthReport => ({
      status: reason === null ? "ok" : "unavailable",
      workerId: this.workerId,
      database,
      reason,
      services,
      lastWriteAgoMs: this.store.db.lastWriteAgoMs(),
    });
    if (this.#closed) return report("unreachable", "this Spool is closed");
    try {
      await this.store.ping();
    } catch (error) {
      return report("unreachable", `the database does not answer: ${(error as Error)?.message ?? String(error)}`);
    }
    try {
      await this.store.probeJobs();
    } catch (error) {
      return report("unreadable", `reading the jobs table fails: ${(error as Error)?.message ?? String(error)}`);
    }
    const now = this.clock.now();
    const stuck = services.filter((s) => s.since !== null && now - s.since >= FAILING_UNHEALTHY_MS);
    if (stuck.length > 0) {
      const first = stuck[0]!;
      const others = stuck.length > 1 ? ` (also failing: ${stuck.slice(1).map((s) => s.service).join(", ")})` : "";
      return report("ok", `the ${first.service} has been failing for ${now - first.since!} ms: ${first.lastError}${others}`);
    }
    return report("ok", null);
  }

  /**
   * Stops every worker this Spool started and ends its drains (handing their
   * jobs back), then closes the database. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const drain of this.#drains) drain.abort();
    await Promise.all([...this.#workers].map((w) => w.stop({ graceMs: 0 })));
    await Promise.all([...this.#drains].map((d) => d.finished));
    this.#workers.clear();
    this.store.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new SpoolError("CLOSED", "this Spool is closed");
  }

  #throwUnlessOk(result: ManageResult, id: string, action: string): void {
    if (result.ok) return;
    if (result.reason === "not_found") throw new SpoolError("JOB_NOT_FOUND", `no job has id ${JSON.stringify(String(id))}`);
    const running = result.running;
    if (running) {
      const cancelling = running.cancelRequested ? ", cancellation requested" : "";
      throw new SpoolError(
        "INVALID_STATE",
        `cannot ${action} job ${id}: it is running (attempt ${running.attempt} on worker ${running.workerId ?? "unknown"}${cancelling}); ` +
          `try again once that attempt has ended`,
      );
    }
    throw new SpoolError("INVALID_STATE", `cannot ${action} job ${id}: it is ${result.status}`);
  }
}

function emptyCounts(): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

function checkListener(event: unknown, listener: unknown): void {
  if (!(SPOOL_EVENT_NAMES as readonly unknown[]).includes(event)) {
    throw new SpoolError("INVALID_OPTIONS", `event must be one of ${SPOOL_EVENT_NAMES.join(", ")}; got ${JSON.stringify(event)}`);
  }
  if (typeof listener !== "function") throw new SpoolError("INVALID_OPTIONS", `a listener of ${String(event)} must be a function, got ${typeof listener}`);
}

function scheduleNotFound(name: string): SpoolError {
  return new SpoolError("SCHEDULE_NOT_FOUND", `no schedule is named ${JSON.stringify(name)}`);
}

function describeSchedule(spec: ScheduleSpec): string {
  const zone = spec.timezone ? ` in ${spec.timezone}` : "";
  const payload = spec.payload.length > 60 ? `${spec.payload.slice(0, 57)}...` : spec.payload;
  return `${JSON.stringify(spec.cron)}${zone} -> ${spec.type} ${payload} ${JSON.stringify(spec.options)} (catchUp ${spec.catchUp}, noOverlap ${spec.noOverlap})`;
}

function checkWorkflowId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0 || id.length > 200) {
    throw new SpoolError("INVALID_OPTIONS", `workflowId must be a non-empty string of at most 200 characters, got ${JSON.stringify(id)}`);
  }
  return id;
}

function checkKnownKeys(options: object, known: string[], operation: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new SpoolError("INVALID_OPTIONS", `${operation} has unknown option ${JSON.stringify(key)}`);
  }
}

function checkProgressListener(listener: unknown): ((progress: BulkProgress) => void) | undefined {
  if (listener !== undefined && typeof listener !== "function") {
    throw new SpoolError("INVALID_OPTIONS", "onProgress must be a function");
  }
  return listener as ((progress: BulkProgress) => void) | undefined;
}

/**
 * Opens (creating if needed) the database at `url` through `platform`, runs
 * migrations and returns a Spool. Each entry point's `createSpool` calls it
 * with its own platform. Throws INVALID_CONFIG for an unusable URL and
 * DATABASE_UNAVAILABLE when the database cannot be opened.
 */
export async function openSpool(options: SpoolOptions, platform: Platform): Promise<Spool> {
  if (typeof options?.url !== "string" || options.url.length === 0) {
    throw new SpoolError("INVALID_CONFIG", `createSpool needs a database url, got ${JSON.stringify(options?.url)}`);
  }
  if (options?.retentionMs !== undefined && !(Number.isSafeInteger(options.retentionMs) && options.retentionMs >= 0)) {
    throw new SpoolError("INVALID_CONFIG", `retentionMs must be a non-negative integer (0 keeps completed jobs), got ${JSON.stringify(options.retentionMs)}`);
  }
  for (const key of ["leaseMs", "maxPayloadBytes", "maxJsonDepth", "maxResultBytes"] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
      throw new SpoolError("INVALID_CONFIG", `${key} must be a positive integer, got ${JSON.stringify(value)}`);
    }
  }
  const clock = options.clock ?? systemClock;
  let store: Store;
  try {
    store = await Store.open({ url: options.url, authToken: options.authToken, client: options.client, fileIdentity: platform.fileIdentity, connect: platform.connect }, clock);
  } catch (error) {
    if (error instanceof SpoolError && error.code === "DATABASE_CORRUPT") {
      throw new SpoolError("DATABASE_CORRUPT", `database ${options.url}: ${error.message}`, { cause: error });
    }
    if (error instanceof SpoolError) throw error;
    throw new SpoolError("DATABASE_UNAVAILABLE", `cannot open database ${options.url}: ${(error as Error).message}`, { cause: error });
  }
  return new Spool(store, options);
}
