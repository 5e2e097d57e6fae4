/**
 * The job types this process can run: handler plus options, by type name.
 */
import type { Job, StagedJob } from "./job.ts";
import { SpoolError } from "./errors.ts";
import { type EnqueueOptions, type JobTypeOptions, checkJobType, validateTypeOptions } from "./options.ts";

/** What a handler receives beside its payload. */
export interface JobContext<P = unknown> {
  /** The job record as claimed (status "running"). */
  job: Job<P>;
  /** This attempt's number, 1-based. */
  attempt: number;
  /** Aborts on timeout, lost lease, cancellation or shutdown; `signal.reason` says which. */
  signal: AbortSignal;
  /**
   * Stages a child job. It is written in the same transaction that marks this
   * job completed, and discarded if this attempt does not complete (a retry
   * stages again). The child inherits this job's workflow and records it as
   * `parentId`. Returns a reference that a later `ctx.enqueue` of this attempt
   * can name in `after`. Invalid type, payload or options throw here; job ids
   * named in `after` are checked when the completion is written, and an
   * unknown one (or one of another workflow) fails this attempt permanently.
   */
  enqueue(type: string, payload: unknown, options?: EnqueueOptions): StagedJob;
  /**
   * Records a failure the handler caught and carried on from. Kept with this
   * attempt (completed or not) and counted on the job's workflow, which then
   * ends completed_with_errors at best.
   */
  warn(message: string): void;
  /** The jobs named in this job's `after`, with their final status and result, by id. */
  dependencies(): Promise<DependencyResult[]>;
  /** Renews this job's lease now (it is also renewed automatically). Rejects if the lease was lost. */
  heartbeat(): Promise<void>;
}

/** One `after` dependency of a job, as `ctx.dependencies()` returns it. */
export interface DependencyResult {
  id: string;
  type: string;
  /** Its status now: completed, or dead/cancelled for a job enqueued with onDependencyFailure "run". */
  status: string;
  /** Its handler's return value, or null. */
  result: unknown;
}

export type JobHandler<P = any> = (payload: P, ctx: JobContext<P>) => unknown | Promise<unknown>;

export interface JobDefinition<P = any> extends JobTypeOptions {
  handler: JobHandler<P>;
}

export class JobTypes {
  readonly #definitions = new Map<string, { handler: JobHandler; options: JobTypeOptions }>();
  #revision = 0;

  /** Grows with every `define`, so a reader can tell its copy of the definitions is stale. */
  get revision(): number {
    return this.#revision;
  }

  /** Registers or replaces a type. Throws INVALID_OPTIONS for a bad name, handler or option. */
  define(type: string, handler: JobHandler, options?: JobTypeOptions): JobTypeOptions {
    checkJobType(type);
    if (typeof handler !== "function") {
      throw new SpoolError("INVALID_OPTIONS", `handler of job type ${JSON.stringify(type)} must be a function`);
    }
    const validated = validateTypeOptions(options, type);
    this.#definitions.set(type, { handler, options: validated });
    this.#revision++;
    return validated;
  }

  get(type: string): { handler: JobHandler; options: JobTypeOptions } | undefined {
    return this.#definitions.get(type);
  }

  options(type: string): JobTypeOptions | undefined {
    return this.#definitions.get(type)?.options;
  }

  names(): string[] {
    return [...this.#definitions.keys()];
  }
}
