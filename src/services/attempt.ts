/**
 * One attempt of a job while its handler runs: what the handler staged and
 * warned of, and the context it is given. The executor makes one per claimed
 * job and reads it back when the handler is done. A busy worker makes one per
 * job, so it is built to cost little: no closure is made until a handler
 * reaches for one.
 */
import type { ClaimedJob, NewJobRow, StagedJob } from "../core/job.ts";
import type { DependencyResult, JobContext, JobHandler, JobTypes } from "../core/job-types.ts";
import type { Clock } from "../core/clock.ts";
import type { EnqueueOptions, JobTypeOptions } from "../core/options.ts";
import { newJobRow } from "../core/new-job.ts";
import type { RunningJob } from "./running-jobs.ts";

/** What a context needs from its executor: the same for every attempt, so it is shared, not copied. */
export interface AttemptEnvironment {
  types: JobTypes;
  clock: Clock;
  maxPayloadBytes: number;
  maxJsonDepth?: number;
  renewLease?: (id: string) => Promise<void>;
  readDependencies?: (id: string) => Promise<DependencyResult[]>;
}

/** Called with the attempt's job: once when the handler is done and its outcome queued, once when that outcome is written. */
export type AttemptCallback = (job: ClaimedJob) => void;

export class Attempt {
  readonly job: ClaimedJob;
  readonly entry: RunningJob;
  readonly definition: { handler: JobHandler; options: JobTypeOptions } | undefined;
  readonly finished: AttemptCallback;
  readonly written: AttemptCallback;
  /** Told of an error of Spool itself instead of the log, when the owner asked to be. */
  readonly failed: ((error: Error) => void) | null;
  /** Ends the timeout's wait once the attempt is over; null without a timeout. */
  timeout: AbortController | null = null;
  /** Jobs staged with ctx.enqueue, in order; null until the first. */
  children: NewJobRow[] | null = null;
  /** Warnings from ctx.warn; null until the first. */
  warnings: string[] | null = null;
  staged: Map<StagedJob, number> | null = null;

  constructor(
    job: ClaimedJob,
    entry: RunningJob,
    definition: { handler: JobHandler; options: JobTypeOptions } | undefined,
    finished: AttemptCallback,
    written: AttemptCallback,
    failed: ((error: Error) => void) | null,
  ) {
    this.job = job;
    this.entry = entry;
    this.definition = definition;
    this.finished = finished;
    this.written = written;
    this.failed = failed;
  }

  /** Whether a staged job names an existing job id in `after`: those ids are checked before the completion is written. */
  namesJobIds(): boolean {
    return this.children !== null && this.children.some((child) => child.after?.some((d) => "id" in d));
  }
}

/**
 * The `ctx` a handler receives. Its functions are made on first access, so a
 * handler may take them apart (`{ enqueue }`) and one that never uses them
 * costs no closure.
 */
export class AttemptContext implements JobContext {
  readonly job: ClaimedJob;
  readonly attempt: number;
  readonly #attempt: Attempt;
  readonly #environment: AttemptEnvironment;
  #enqueue: JobContext["enqueue"] | null = null;
  #warn: JobContext["warn"] | null = null;
  #dependencies: JobContext["dependencies"] | null = null;
  #heartbeat: JobContext["heartbeat"] | null = null;

  constructor(attempt: Attempt, environment: AttemptEnvironment) {
    this.job = attempt.job;
    this.attempt = attempt.job.attempts;
    this.#attempt = attempt;
    this.#environment = environment;
  }

  get signal(): AbortSignal {
    const { entry } = this.#attempt;
    if (entry.controller === null) {
      entry.controller = new AbortController();
      if (entry.stopError !== null) entry.controller.abort(entry.stopError);
    }
    return entry.controller.signal;
  }

  get enqueue(): JobContext["enqueue"] {
    return (this.#enqueue ??= (type, payload, options) => this.#stage(type, payload, options));
  }

  get warn(): JobContext["warn"] {
    return (this.#warn ??= (message) => {
      (this.#attempt.warnings ??= []).push(typeof message === "string" ? message : String(message));
    });
  }

  get dependencies(): JobContext["dependencies"] {
    return (this.#dependencies ??= async () => {
      const read = this.#environment.readDependencies;
      return read ? read(this.job.id) : [];
    });
  }

  get heartbeat(): JobContext["heartbeat"] {
    return (this.#heartbeat ??= async () => {
      const { entry } = this.#attempt;
      if (entry.stopReason === "lease_lost") throw entry.stopError;
      await this.#environment.renewLease?.(this.job.id);
    });
  }

  #stage(type: string, payload: unknown, options: EnqueueOptions | undefined): StagedJob {
    const attempt = this.#attempt;
    const environment = this.#environment;
    const children = (attempt.children ??= []);
    const stage = children.length;
    const row = newJobRow(environment.types, type, payload, options, {
      now: environment.clock.now(),
      maxPayloadBytes: environment.maxPayloadBytes,
      maxJsonDepth: environment.maxJsonDepth,
      parentId: this.job.id,
      parentWorkflowId: this.job.workflowId,
      staged: attempt.staged ?? undefined,
      stage,
    });
    children.push(row);
    const ref: StagedJob = Object.freeze({ type: row.type, stage });
    (attempt.staged ??= new Map()).set(ref, stage);
    return ref;
  }
}
