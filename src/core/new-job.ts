/**
 * Turning an enqueue call into the row the store inserts: one place that
 * validates type, payload and options, so `enqueue`, `enqueueMany`,
 * `ctx.enqueue`, HTTP and cron all agree.
 */
import type { Dependency, NewJobRow, NewJobRun, StagedJob } from "./job.ts";
import type { JobTypes } from "./job-types.ts";
import { DEFAULT_IDEMPOTENCY_WINDOW_MS, checkJobType, resolveEnqueueOptions } from "./options.ts";
import { SpoolError } from "./errors.ts";
import { encodePayload } from "./payload.ts";

export interface NewJobContext {
  now: number;
  maxPayloadBytes: number;
  /** Deepest nesting of a payload. Default DEFAULT_MAX_JSON_DEPTH (64). */
  maxJsonDepth?: number;
  parentId?: string | null;
  /** Children inherit it; null for a plain parent. */
  parentWorkflowId?: string | null;
  scheduleName?: string | null;
  scheduledFor?: number | null;
  /** In a handler: the jobs its attempt staged so far, which `after` may name. */
  staged?: ReadonlyMap<StagedJob, number>;
  /** In a handler: the position the new job takes among the attempt's staged jobs. */
  stage?: number;
}

/** Validates and builds one job row; throws SpoolError and writes nothing on bad input. */
export function newJobRow(types: JobTypes, type: unknown, payload: unknown, options: unknown, context: NewJobContext): NewJobRow {
  const checkedType = checkJobType(type);
  const typeOptions = types.options(checkedType);
  const resolved = resolveEnqueueOptions(options, typeOptions, context.now);
  const encoded = encodePayload(payload, context.maxPayloadBytes, "payload", context.maxJsonDepth);
  const after = resolved.after === null ? null : dependenciesOf(resolved.after, context.staged);
  return {
    type: checkedType,
    queue: resolved.queue,
    payload: encoded,
    status: after !== null ? "blocked" : resolved.runAt === null ? "pending" : "scheduled",
    priority: resolved.priority,
    maxAttempts: resolved.maxAttempts,
    runAt: resolved.runAt ?? context.now,
    createdAt: context.now,
    timeoutMs: resolved.timeoutMs,
    backoff: resolved.backoff === null ? null : JSON.stringify(resolved.backoff),
    idempotencyKey: resolved.idempotencyKey,
    idempotencyWindowMs: typeOptions?.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS,
    // a job is in a workflow only when given one or staged by a job of one: a plain parent's children stay plain
    workflowId: resolved.workflowId ?? context.parentWorkflowId ?? null,
    parentId: context.parentId ?? null,
    scheduleName: context.scheduleName ?? null,
    scheduledFor: context.scheduledFor ?? null,
    optionsFromType: resolved.optionsFromType,
    after,
    optional: resolved.optional,
    onDependencyFailure: resolved.onDependencyFailure,
    stage: context.stage ?? null,
  };
}

function dependenciesOf(after: Array<string | StagedJob>, staged: ReadonlyMap<StagedJob, number> | undefined): Dependency[] {
  const seen = new Set<string>();
  const dependencies: Dependency[] = [];
  after.forEach((entry, index) => {
    let dependency: Dependency;
    if (typeof entry === "string") dependency = { id: entry };
    else {
      const stage = staged?.get(entry);
      if (stage === undefined) {
        throw new SpoolError(
          "INVALID_OPTIONS",
          `after[${index}] is a staged job (${entry.type}) that this call cannot name: a job staged by ctx.enqueue is named only in a later ctx.enqueue of the same attempt`,
        );
      }
      dependency = { stage };
    }
    const key = "id" in dependency ? `id:${dependency.id}` : `stage:${dependency.stage}`;
    if (!seen.has(key)) dependencies.push(dependency);
    seen.add(key);
  });
  return dependencies;
}

/** One item of an enqueueMany batch, as the caller passed it (validated by newJobRuns). */
export interface NewJobItem {
  type: string;
  payload: unknown;
  options?: unknown;
}

/**
 * Validates and builds an enqueueMany batch as runs of alike jobs. Items of
 * one type with the same options (the same object, or none) make the same row
 * but for the payload, so they share one run. Throws SpoolError naming the
 * item (when there are several) and builds nothing for a batch it refuses.
 */
export function newJobRuns(types: JobTypes, items: unknown, context: NewJobContext): NewJobRun[] {
  if (!Array.isArray(items)) throw new SpoolError("INVALID_OPTIONS", "enqueueMany takes an array of { type, payload, options? }");
  const runs: NewJobRun[] = [];
  let run: NewJobRun | null = null;
  let runType: unknown;
  let runOptions: unknown;
  for (let index = 0; index < items.length; index++) {
    const item = items[index] as NewJobItem;
    if (typeof item !== "object" || item === null) {
      throw new SpoolError("INVALID_OPTIONS", `enqueueMany item ${index} must be an object { type, payload, options? }`);
    }
    try {
      if (run !== null && item.type === runType && item.options === runOptions) {
        run.payloads.push(encodePayload(item.payload, context.maxPayloadBytes, "payload", context.maxJsonDepth));
        continue;
      }
      const row = newJobRow(types, item.type, item.payload, item.options, context);
      run = { row, payloads: [row.payload] };
      runs.push(run);
      runType = item.type;
      runOptions = item.options;
    } catch (error) {
      if (error instanceof SpoolError && items.length > 1) {
        throw new SpoolError(error.code, `enqueueMany item ${index}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }
  return runs;
}
