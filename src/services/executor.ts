/**
 * The executor runs one claimed job at a time per call: it builds the
 * handler's context, enforces the timeout, and turns the way the attempt ended
 * into one outcome for the completer. It never writes to the store itself.
 */
import { type Backoff, retryDelay } from "../core/backoff.ts";
import type { Clock } from "../core/clock.ts";
import type { EventSink } from "../core/events.ts";
import { SpoolError, boundErrorText, isPermanentError, toError } from "../core/errors.ts";
import type { ClaimedJob, NewJobRow } from "../core/job.ts";
import type { DependencyResult, JobTypes } from "../core/job-types.ts";
import type { Logger } from "../core/logger.ts";
import { encodePayload } from "../core/payload.ts";
import { type AttemptError, type Outcome, cancel, complete, dead, release, retryLater } from "../core/transitions.ts";
import { Attempt, type AttemptCallback, AttemptContext } from "./attempt.ts";
import type { Completer } from "./completer.ts";
import { emitOutcome } from "./job-events.ts";
import { CLOCK, LOGGER, checkDependencies } from "./dependencies-check.ts";
import type { RunningJob, RunningJobs } from "./running-jobs.ts";

/** Largest handler result kept, in bytes of JSON: 64 KiB. */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024;

export type { RunningJob, StopReason } from "./running-jobs.ts";

export interface ExecutorOptions {
  types: JobTypes;
  completer: Completer;
  /** Where each attempt is registered while it runs; the heartbeat and the reaper read it, and stops go through it. */
  running: RunningJobs;
  clock: Clock;
  logger: Logger;
  maxPayloadBytes: number;
  /** Deepest nesting of a payload ctx.enqueue accepts. Default 64. */
  maxJsonDepth?: number;
  /** Largest result a handler may return, in bytes of JSON; a larger one fails the attempt. Default 64 KiB. */
  maxResultBytes?: number;
  random?: () => number;
  /** Renews one job's lease now, throwing LEASE_LOST when it is gone; used by ctx.heartbeat(). */
  renewLease?: (id: string) => Promise<void>;
  /** Reads a job's `after` dependencies with their results; used by ctx.dependencies(). */
  readDependencies?: (id: string) => Promise<DependencyResult[]>;
  /** The workflow of each existing job among the ids (absent: no such job); checks the `after` ids a handler named. */
  workflowsOfJobs?: (ids: string[]) => Promise<Map<string, string | null>>;
  /** Told of each attempt's start and of its written outcome. */
  events?: EventSink;
}

export class Executor {
  readonly #options: ExecutorOptions;
  readonly #running: RunningJobs;

  /** Throws INVALID_OPTIONS (a SpoolError) naming a missing or mistyped dependency. */
  constructor(options: ExecutorOptions) {
    checkDependencies(
      "executor",
      options,
      { types: { methods: ["get", "options"] }, completer: { methods: ["queue"] }, running: { methods: ["add", "stop"] }, clock: CLOCK, logger: LOGGER },
      { random: "function", renewLease: "function", readDependencies: "function", workflowsOfJobs: "function" },
    );
    this.#options = options;
    this.#running = options.running;
  }

  /**
   * Runs the job to an outcome and hands it to the completer. Resolves as soon
   * as the handler is done and its outcome submitted, so the slot can take the
   * next job while the completer writes; `written` settles after the write.
   * Rejects only on an error of Spool itself, and then writes nothing.
   */
  run(job: ClaimedJob): Promise<{ written: Promise<void> }> {
    return new Promise((resolve, reject) => {
      let wrote!: () => void;
      const written = new Promise<void>((done) => (wrote = done));
      this.start(
        job,
        () => resolve({ written }),
        () => wrote(),
        (error) => reject(error),
      );
    });
  }

  /**
   * The same as `run` without a promise per job, for the producer: calls
   * `finished(job)` once the handler is done and its outcome submitted (before
   * returning, when the handler returned a plain value) and `written(job)`
   * after the completer wrote it; each exactly once. An error of Spool itself
   * goes to `failed` when given, else it is logged; both callbacks follow.
   */
  start(job: ClaimedJob, finished: AttemptCallback, written: AttemptCallback, failed?: (error: Error) => void): void {
    const entry = this.#running.add(job);
    this.#options.events?.emit("started", { job });
    const attempt = new Attempt(job, entry, this.#options.types.get(job.type), finished, written, failed ?? null);
    let value: unknown;
    try {
      if (!attempt.definition) {
        throw new SpoolError("UNKNOWN_JOB_TYPE", `no handler is defined for job type ${JSON.stringify(job.type)} in this worker`);
      }
      if (job.timeoutMs !== null) attempt.timeout = this.#timeOut(job);
      value = attempt.definition.handler(job.payload, new AttemptContext(attempt, this.#options));
    } catch (thrown) {
      this.#end(attempt, { ok: false, error: toError(thrown) });
      return;
    }
    // a handler that returned a plain value is done; only a promise is raced against a stop
    if (isThenable(value)) {
      untilSettledOrStopped(value, entry).then(
        (settled) => this.#returned(attempt, settled),
        (thrown) => this.#end(attempt, { ok: false, error: toError(thrown) }),
      );
    } else {
      this.#returned(attempt, value);
    }
  }

  /** Stops the attempt as timed out after its timeout, unless the returned controller is aborted first. */
  #timeOut(job: ClaimedJob): AbortController {
    const done = new AbortController();
    void this.#options.clock.sleep(job.timeoutMs!, done.signal).then(() => {
      if (!done.signal.aborted) this.#running.stop(job.id, "timed_out");
    });
    return done;
  }

  /** The handler returned `value`: encode it, check the job ids its staged jobs name, and end the attempt. */
  #returned(attempt: Attempt, value: unknown): void {
    let result: AttemptResult;
    try {
      result = { ok: true, value: value === undefined ? null : encodeResult(value, this.#options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES) };
    } catch (thrown) {
      result = { ok: false, error: toError(thrown) };
    }
    if (result.ok && attempt.namesJobIds()) {
      const ok = result;
      this.#checkNamedDependencies(attempt.children!).then(
        () => this.#end(attempt, ok),
        (thrown) => this.#end(attempt, { ok: false, error: toError(thrown) }),
      );
      return;
    }
    this.#end(attempt, result);
  }

  /** Decides the outcome, submits it, and tells the attempt's owner. */
  #end(attempt: Attempt, result: AttemptResult): void {
    const { job, entry, definition } = attempt;
    entry.interrupt = null;
    attempt.timeout?.abort("finished");
    let outcome: Outcome | null;
    try {
      outcome = this.#decide(entry, result, attempt.children, attempt.warnings, definition?.options.backoff, definition?.options.isPermanent);
    } catch (error) {
      this.#running.delete(job.id);
      if (attempt.failed) attempt.failed(toError(error));
      else this.#options.logger.error("executor failed", { jobId: job.id, error: toError(error).message });
      attempt.finished(job);
      attempt.written(job);
      return;
    }
    entry.settled = true;
    if (outcome === null) {
      this.#running.delete(job.id);
      attempt.finished(job);
      attempt.written(job);
      return;
    }
    // the lease is still renewed until the outcome is written
    this.#options.completer.queue(outcome, (held) => {
      this.#running.delete(job.id);
      this.#log(job, outcome, held);
      if (held && this.#options.events) emitOutcome(this.#options.events, job, outcome, result.ok ? null : result.error);
      attempt.written(job);
    });
    attempt.finished(job);
  }

  #log(job: ClaimedJob, outcome: Outcome, written: boolean): void {
    const { logger } = this.#options;
    const fields = { jobId: job.id, type: job.type, attempt: job.attempts, status: outcome.status };
    if (!written) logger.warn("attempt outcome discarded: the job's lease was lost", fields);
    else if (outcome.status === "completed") logger.debug("job completed", fields);
    // a release is not an attempt: nothing failed, and the attempt is not spent
    else if (outcome.status === "pending") logger.info("job returned to the queue at shutdown", { jobId: job.id, type: job.type, attempt: job.attempts });
    else logger.warn("job attempt failed", { ...fields, outcome: outcome.outcome, error: outcome.error, runAt: outcome.runAt });
  }

  /**
   * Job ids a handler named in `after` cannot be checked at the call: they are
   * checked here, before the completion is written. An unknown id, or ids of
   * two workflows, fail the attempt permanently with INVALID_OPTIONS.
   */
  async #checkNamedDependencies(children: NewJobRow[]): Promise<void> {
    const ids = [...new Set(children.flatMap((child) => (child.after ?? []).flatMap((d) => ("id" in d ? [d.id] : []))))];
    const known = (await this.#options.workflowsOfJobs?.(ids)) ?? new Map<string, string | null>();
    for (const child of children) {
      for (const dependency of child.after ?? []) {
        if (!("id" in dependency)) continue;
        if (!known.has(dependency.id)) {
          throw new PermanentOptionsError(`after names job ${dependency.id}, which does not exist (staging ${child.type})`);
        }
        const workflow = known.get(dependency.id) ?? null;
        if (workflow !== child.workflowId) {
          throw new PermanentOptionsError(
            `after names job ${dependency.id} of workflow ${JSON.stringify(workflow)}, but ${child.type} is in workflow ${JSON.stringify(child.workflowId)}`,
          );
        }
      }
    }
  }

  #decide(
    entry: RunningJob,
    result: AttemptResult,
    children: NewJobRow[] | null,
    warnings: string[] | null,
    typeBackoff: Backoff | undefined,
    isPermanent: ((error: Error) => boolean) | undefined,
  ): Outcome | null {
    const { job } = entry;
    const now = this.#options.clock.now();
    // a lost lease belongs to someone else now: write nothing
    if (entry.stopReason === "lease_lost") return null;
    if (entry.stopReason === "shutdown") return release(job, now);
    if (result.ok) return complete(job, now, result.value, children ?? undefined, warnings);
    const error = result.error;
    const failure: AttemptError = {
      message: boundErrorText(String(error.message || error.name)),
      stack: typeof error.stack === "string" ? boundErrorText(error.stack) : null,
      outcome: entry.stopReason === "timed_out" ? "timed_out" : "failed",
    };
    if (entry.stopReason === "cancelled") return cancel(job, now, failure, warnings);
    let permanent = isPermanentError(error) || error instanceof PermanentOptionsError;
    try {
      permanent ||= isPermanent?.(error) === true;
    } catch (classifyError) {
      this.#options.logger.error("isPermanent threw; treating the error as retryable", { jobId: job.id, error: toError(classifyError).message });
    }
    if (permanent || job.attempts >= job.maxAttempts) return dead(job, now, failure, warnings);
    const delay = retryDelay(job.backoffJson, typeBackoff, job.attempts, error, this.#options.random, (thrown) =>
      this.#options.logger.error("backoff function threw; using the default policy", { jobId: job.id, error: toError(thrown).message }),
    );
    return retryLater(job, now, now + delay, failure, warnings);
  }
}

/** How a handler's attempt ended: its encoded result, or what it threw. */
type AttemptResult = { ok: true; value: string | null } | { ok: false; error: Error };

/** An `after` a handler named that cannot be satisfied: INVALID_OPTIONS, and the attempt fails with no retry. */
class PermanentOptionsError extends SpoolError {
  constructor(message: string) {
    super("INVALID_OPTIONS", message);
  }
}

/** A handler's return value as stored JSON; throws RESULT_TOO_LARGE over `maxBytes`, INVALID_PAYLOAD for what JSON cannot carry. */
function encodeResult(value: unknown, maxBytes: number): string {
  try {
    return encodePayload(value, maxBytes, "result");
  } catch (error) {
    if (error instanceof SpoolError && /over the limit/.test(error.message)) {
      throw new SpoolError("RESULT_TOO_LARGE", `${error.message} (maxResultBytes): return less, or store it elsewhere and return a reference`);
    }
    throw error;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Settles with the handler, or rejects with the stop error as soon as the attempt is stopped, even if the handler never returns. */
function untilSettledOrStopped(work: PromiseLike<unknown>, entry: RunningJob): Promise<unknown> {
  if (entry.stopError !== null) return Promise.reject(entry.stopError);
  return new Promise((resolve, reject) => {
    entry.interrupt = reject;
    work.then(resolve, reject);
  });
}
