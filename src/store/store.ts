/**
 * The store: every database operation Spool performs, by name. Services and
 * the public API receive a Store and never see SQL.
 */
import type { Clock } from "../core/clock.ts";
import type { ClaimedJob, Job, NewJobRow, NewJobRun } from "../core/job.ts";
import type { RateLimit } from "../core/options.ts";
import type { ScheduleSpec } from "../core/schedule.ts";
import type { JobStatus } from "../core/states.ts";
import { type ClaimRequest, claimJobs } from "./claim-jobs.ts";
import { type CompleteAndClaimResult, completeAndClaim } from "./complete-and-claim.ts";
import { type CompleteResult, type Outcome, completeJobs } from "./complete-jobs.ts";
import { type DependencyResult, type SettledJob, dependenciesOf, settleLeftovers, workflowsOfJobs } from "./dependencies.ts";
import {
  type Workflow,
  type WorkflowActionResult,
  type WorkflowPage,
  type WorkflowStatus,
  cancelWorkflow,
  getWorkflow,
  listWorkflows,
  retryWorkflow,
} from "./workflows.ts";
import { Database, type DatabaseOptions, quickCheck } from "./database.ts";
import { type DueWork, dueWork } from "./due-work.ts";
import { type InsertResult, insertJobs } from "./insert-jobs.ts";
import { type ExpiredLease, type RenewResult, findExpiredLeases, renewLeases } from "./leases.ts";
import {
  type DeadJobFilter,
  type FinishedCursor,
  type ManageResult,
  cancelJob,
  countDeadJobs,
  replayDeadBatch,
  replayJob,
} from "./manage-jobs.ts";
import { migrate } from "./migrate.ts";
import { type PromoteResult, promoteDueJobs } from "./promote-due-jobs.ts";
import { type PurgeFilter, countPurgeable, purgeBatch } from "./purge-jobs.ts";
import { type QueueSettings, type QueueSummary, ageWaitingJobs, listQueueSettings, listQueues, setQueueAging, setQueuePaused } from "./queues.ts";
import { type JobListing, type JobPage, countJobsByStatus, countJobsByType, getJob, listJobs } from "./read-jobs.ts";
import { saveTypeLimits } from "./type-limits.ts";
import { completedTypes, deleteCompletedBatch } from "./retention.ts";
import {
  ActiveNames,
  type JobCounts,
  type QueueCount,
  type StatsRows,
  type StatsWrite,
  type TypeCount,
  countWorkersSeen,
  forgetWorker,
  readQueueCounts,
  readStats,
  writeStats,
} from "./stats.ts";
import {
  type FireRequest,
  type ScheduleRecord,
  deleteSchedule,
  fireScheduleTicks,
  getSchedule,
  listSchedules,
  pauseSchedule,
  resumeSchedule,
  upsertSchedule,
} from "./schedules.ts";

export type { CompleteResult, DependencyResult, SettledJob, Workflow, WorkflowActionResult, WorkflowPage, WorkflowStatus };
export type { ClaimRequest, CompleteAndClaimResult, DueWork, ExpiredLease, InsertResult, JobPage, ManageResult, Outcome, PromoteResult, QueueSettings, RenewResult };
export type { FireRequest, ScheduleRecord };
export type { DeadJobFilter, FinishedCursor, JobListing, PurgeFilter, QueueSummary };
export type { JobCounts, QueueCount, StatsRows, StatsWrite, TypeCount };

export class Store {
  readonly db: Database;
  // the names the last counts met among active jobs (see ActiveNames)
  readonly #activeNames = new ActiveNames();

  private constructor(db: Database) {
    this.db = db;
  }

  /** Opens the database and brings its schema up to date. */
  static async open(options: DatabaseOptions, clock: Clock): Promise<Store> {
    const db = await Database.open(options, clock);
    try {
      await migrate(db, () => clock.now());
    } catch (error) {
      db.close();
      throw error;
    }
    return new Store(db);
  }

  insertJobs(runs: NewJobRun[], now: number): Promise<InsertResult[]> {
    return insertJobs(this.db, runs, now);
  }
  claimJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    return claimJobs(this.db, request);
  }
  completeAndClaim(outcomes: Outcome[], request: ClaimRequest, now: number): Promise<CompleteAndClaimResult> {
    return completeAndClaim(this.db, outcomes, request, now);
  }
  completeJobs(outcomes: Outcome[], now: number): Promise<CompleteResult> {
    return completeJobs(this.db, outcomes, now);
  }
  settleLeftovers(now: number): Promise<SettledJob[]> {
    return settleLeftovers(this.db, now);
  }
  dependenciesOf(id: string): Promise<DependencyResult[]> {
    return dependenciesOf(this.db, id);
  }
  workflowsOfJobs(ids: string[]): Promise<Map<string, string | null>> {
    return workflowsOfJobs(this.db, ids);
  }
  getWorkflow(id: string): Promise<Workflow | null> {
    return getWorkflow(this.db, id);
  }
  listWorkflows(query: { status?: WorkflowStatus; type?: string; limit: number; cursor?: string }): Promise<WorkflowPage> {
    return listWorkflows(this.db, query);
  }
  cancelWorkflow(id: string, now: number): Promise<WorkflowActionResult> {
    return cancelWorkflow(this.db, id, now);
  }
  retryWorkflow(id: string, now: number): Promise<WorkflowActionResult> {
    return retryWorkflow(this.db, id, now);
  }
  renewLeases(leases: Array<{ id: string; token: string }>, expiresAt: number): Promise<RenewResult> {
    return renewLeases(this.db, leases, expiresAt);
  }
  findExpiredLeases(now: number, limit: number): Promise<ExpiredLease[]> {
    return findExpiredLeases(this.db, now, limit);
  }
  promoteDueJobs(now: number): Promise<PromoteResult> {
    return promoteDueJobs(this.db, now);
  }
  dueWork(request: { now: number; queues: string[] | null; types: string[] }): Promise<DueWork> {
    return dueWork(this.db, request);
  }
  getJob(id: string): Promise<Job | null> {
    return getJob(this.db, id);
  }
  listJobs(query: JobListing): Promise<JobPage> {
    return listJobs(this.db, query);
  }
  countJobsByStatus(): Promise<Record<JobStatus, number>> {
    return countJobsByStatus(this.db);
  }
  countJobsByType(): Promise<Record<string, Record<JobStatus, number>>> {
    return countJobsByType(this.db);
  }
  replayJob(id: string, now: number): Promise<ManageResult> {
    return replayJob(this.db, id, now);
  }
  countDeadJobs(filter: DeadJobFilter): Promise<number> {
    return countDeadJobs(this.db, filter);
  }
  replayDeadBatch(filter: DeadJobFilter, cursor: FinishedCursor | null, now: number): Promise<{ replayed: number; next: FinishedCursor | null }> {
    return replayDeadBatch(this.db, filter, cursor, now);
  }
  countPurgeable(filter: PurgeFilter): Promise<number> {
    return countPurgeable(this.db, filter);
  }
  purgeBatch(filter: PurgeFilter, cursor: FinishedCursor | null): Promise<{ purged: number; examined: number; next: FinishedCursor | null }> {
    return purgeBatch(this.db, filter, cursor);
  }
  cancelJob(id: string, now: number): Promise<ManageResult> {
    return cancelJob(this.db, id, now);
  }
  setQueuePaused(name: string, paused: boolean): Promise<void> {
    return setQueuePaused(this.db, name, paused);
  }
  setQueueAging(name: string, agingMs: number | null): Promise<void> {
    return setQueueAging(this.db, name, agingMs);
  }
  listQueueSettings(): Promise<QueueSettings[]> {
    return listQueueSettings(this.db);
  }
  listQueues(now: number): Promise<QueueSummary[]> {
    return listQueues(this.db, this.#activeNames, now);
  }
  ageWaitingJobs(now: number): Promise<number> {
    return ageWaitingJobs(this.db, now);
  }
  saveTypeLimits(type: string, concurrency: number | undefined, rateLimit: RateLimit | undefined): Promise<void> {
    return saveTypeLimits(this.db, type, concurrency, rateLimit);
  }
  upsertSchedule(spec: ScheduleSpec, nextFireAt: number | null, now: number): Promise<void> {
    return upsertSchedule(this.db, spec, nextFireAt, now);
  }
  deleteSchedule(name: string): Promise<boolean> {
    return deleteSchedule(this.db, name);
  }
  listSchedules(): Promise<ScheduleRecord[]> {
    return listSchedules(this.db);
  }
  getSchedule(name: string): Promise<ScheduleRecord | null> {
    return getSchedule(this.db, name);
  }
  pauseSchedule(name: string): Promise<boolean> {
    return pauseSchedule(this.db, name);
  }
  resumeSchedule(schedule: { name: string; cron: string; timezone: string | null }, nextFireAt: number | null): Promise<boolean> {
    return resumeSchedule(this.db, schedule, nextFireAt);
  }
  fireScheduleTicks(request: FireRequest): Promise<Array<{ id: string; scheduledFor: number }>> {
    return fireScheduleTicks(this.db, request);
  }
  async readQueueCounts(): Promise<QueueCount[]> {
    return (await readQueueCounts(this.db, this.#activeNames)).counts;
  }
  readStats(minutesFrom: number, latencyFrom: number): Promise<StatsRows> {
    return readStats(this.db, this.#activeNames, minutesFrom, latencyFrom);
  }
  countWorkersSeen(since: number): Promise<number> {
    return countWorkersSeen(this.db, since);
  }
  writeStats(write: StatsWrite): Promise<void> {
    return writeStats(this.db, write);
  }
  forgetWorker(id: string): Promise<void> {
    return forgetWorker(this.db, id);
  }
  completedTypes(): Promise<string[]> {
    return completedTypes(this.db);
  }
  deleteCompletedBatch(type: string, cutoff: number, after: number): Promise<{ deleted: number; next: number | null }> {
    return deleteCompletedBatch(this.db, type, cutoff, after);
  }
  /** A cheap round trip that proves the database answers. */
  async ping(): Promise<void> {
    await this.db.execute("SELECT 1");
  }
  /**
   * A cheap read of the jobs table (its newest row, through the table's own
   * b-tree), which fails when the table's root or last pages are damaged. A
   * damaged page in the middle of the table is found only by reading it.
   */
  async probeJobs(): Promise<void> {
    await this.db.execute("SELECT id FROM spool_jobs ORDER BY id DESC LIMIT 1");
  }
  /**
   * Runs SQLite's `PRAGMA quick_check` on a local file of at most `maxBytes`
   * and throws DATABASE_CORRUPT naming `name` when it finds damage. Returns
   * false without checking for a server database or a larger file.
   */
  async quickCheck(maxBytes: number, name: string): Promise<boolean> {
    return quickCheck(this.db, maxBytes, name);
  }
  close(): void {
    this.db.close();
  }
}
