/**
 * The event sink: a small typed emitter that the services and the Spool tell
 * about every state change after it is committed. `spool.on(...)` listens to
 * it; the metrics and the stats recorder are listeners too. A listener that
 * throws is logged and skipped: it never reaches the code that emitted.
 *
 * Events are this process's view: a job that another process runs fires its
 * events there, not here.
 */
import type { Job } from "./job.ts";
import type { Logger } from "./logger.ts";

/** What a `released` or `cancelled` event knows about its job at least. */
export interface JobRef {
  id: string;
  type: string;
  /** The status the job has after the event: pending or scheduled for `enqueued` and `released`, `cancelled`, ... */
  status: string;
  workflowId: string | null;
}

/** What an `enqueued` event (and an operator's cancel) knows about its job without reading it. */
export interface JobSummary extends JobRef {
  queue: string;
  runAt: number;
}

/** Every event and what its listeners receive. */
export interface SpoolEventMap {
  /** A job was written by enqueue/enqueueMany (POST /jobs included) or a cron tick fired here. Not for a deduplicated enqueue. */
  enqueued: { job: JobSummary };
  /** An attempt started: the claim that leased it is committed. `job.attempts` is this attempt's number. */
  started: { job: Job };
  /** An attempt succeeded and its completion is committed. */
  completed: { job: Job; durationMs: number };
  /**
   * An attempt failed (threw, timed out, or its lease expired), the last one
   * too. `willRetry` is false when no attempt is left or the error is
   * permanent; `dead` follows then.
   */
  failed: { job: Job; error: Error; willRetry: boolean; retryAt: number | null };
  /** A job went to the dead-letter queue. */
  dead: { job: Job; error: Error };
  /** A waiting job was cancelled, a running one stopped on request, or a blocked one cancelled because a dependency failed (`cause`: its id). */
  cancelled: { job: JobRef; cause?: string | null };
  /**
   * A fan-in job became runnable: its last dependency completed (emitted by
   * the code that releases blocked jobs, through `emitReleased`, after the
   * batch that released it is committed).
   */
  released: { job: JobRef };
  /** A worker stopped renewing this job's lease (crashed, hung or partitioned) and the reaper here recovered it. */
  lease_expired: { job: Job; willRetry: boolean };
}

export type SpoolEventName = keyof SpoolEventMap;

/** The public event names, in the order a job's life usually goes. */
export const SPOOL_EVENT_NAMES: readonly SpoolEventName[] = [
  "enqueued",
  "started",
  "completed",
  "failed",
  "dead",
  "cancelled",
  "released",
  "lease_expired",
];

export type SpoolEventListener<E extends SpoolEventName> = (event: SpoolEventMap[E]) => void;

/** Jobs a handler staged with ctx.enqueue, written with its completion (no ids come back from that write). */
export interface StagedJobs {
  parentId: string;
  jobs: Array<{ type: string; queue: string }>;
}

type AnyListener = (event: never) => void;

export class EventSink {
  readonly #logger: Logger;
  readonly #listeners = new Map<string, AnyListener[]>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds a listener; the same function added twice is called twice. */
  on<E extends SpoolEventName>(event: E, listener: SpoolEventListener<E>): void {
    this.#add(event, listener as AnyListener);
  }

  /** Removes one registration of `listener`; a listener never added is ignored. */
  off<E extends SpoolEventName>(event: E, listener: SpoolEventListener<E>): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    const at = list.lastIndexOf(listener as AnyListener);
    if (at < 0) return;
    // a copy: an emit in progress keeps the list it started with
    const next = list.slice();
    next.splice(at, 1);
    if (next.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, next);
  }

  /** Whether anyone listens to `event`: emit points skip building an event nobody reads. */
  has(event: SpoolEventName | "staged"): boolean {
    return this.#listeners.has(event);
  }

  /** Calls every listener of `event` in the order they were added; a throwing one is logged and the rest still run. */
  emit<E extends SpoolEventName>(event: E, payload: SpoolEventMap[E]): void {
    this.#call(event, payload);
  }

  /** The fan-in hook: call once per job a committed batch released from `blocked`. */
  emitReleased(job: JobRef): void {
    this.#call("released", { job });
  }

  /** A blocked job a committed batch settled: `released` when it became runnable, `cancelled` when a dependency failed. */
  emitSettled(job: JobRef & { cause: string | null }): void {
    const ref: JobRef = { id: job.id, type: job.type, status: job.status, workflowId: job.workflowId };
    if (job.status === "cancelled") this.#call("cancelled", { job: ref, cause: job.cause });
    else this.#call("released", { job: ref });
  }

  /** Internal: jobs staged by a handler were written with its completion (counted by the metrics). */
  onStaged(listener: (staged: StagedJobs) => void): void {
    this.#add("staged", listener as AnyListener);
  }

  emitStaged(staged: StagedJobs): void {
    this.#call("staged", staged);
  }

  #add(event: string, listener: AnyListener): void {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
  }

  #failed(event: string, error: unknown): void {
    this.#logger.error("event listener threw; ignored", { event, error: (error as Error)?.message ?? String(error) });
  }

  #call(event: string, payload: unknown): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    for (const listener of list) {
      try {
        const returned = (listener as (p: unknown) => unknown)(payload);
        // an async listener's rejection would otherwise be unhandled, which can end the process
        if (typeof (returned as PromiseLike<unknown> | null)?.then === "function") {
          (returned as Promise<unknown>).then(undefined, (error) => this.#failed(event, error));
        }
      } catch (error) {
        this.#failed(event, error);
      }
    }
  }
}

/** A Job as the summary events carry it. */
export function summaryOf(job: Pick<Job, "id" | "type" | "queue" | "status" | "runAt" | "workflowId">): JobSummary {
  return { id: job.id, type: job.type, queue: job.queue, status: job.status, runAt: job.runAt, workflowId: job.workflowId };
}
