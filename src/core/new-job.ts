/**
 * Turning an enqueue call into the row the store inserts: one place that
 * validates type, payload and options, so `enqueue`, `enqueueMany`,
 * `ctx.enqueue`, HTTP and cron all agree.
 */
import type { NewJobRow } from "./job.ts";
import type { JobTypes } from "./job-types.ts";
import { DEFAULT_IDEMPOTENCY_WINDOW_MS, checkJobType, resolveEnqueueOptions } from "./options.ts";
import { encodePayload } from "./payload.ts";

export interface NewJobContext {
  now: number;
  maxPayloadBytes: number;
  parentId?: string | null;
  parentWorkflowId?: string | null;
  scheduleName?: string | null;
  scheduledFor?: number | null;
}

/** Validates and builds one job row; throws SpoolError and writes nothing on bad input. */
export function newJobRow(types: JobTypes, type: unknown, payload: unknown, options: unknown, context: NewJobContext): NewJobRow {
  const checkedType = checkJobType(type);
  const typeOptions = types.options(checkedType);
  const resolved = resolveEnqueueOptions(options, typeOptions, context.now);
  const encoded = encodePayload(payload, context.maxPayloadBytes);
  return {
    type: checkedType,
    queue: resolved.queue,
    payload: encoded,
    status: resolved.runAt === null ? "pending" : "scheduled",
    priority: resolved.priority,
    maxAttempts: resolved.maxAttempts,
    runAt: resolved.runAt ?? context.now,
    createdAt: context.now,
    timeoutMs: resolved.timeoutMs,
    backoff: resolved.backoff === null ? null : JSON.stringify(resolved.backoff),
    idempotencyKey: resolved.idempotencyKey,
    idempotencyWindowMs: typeOptions?.idempotencyWindowMs ?? DEFAULT_IDEMPOTENCY_WINDOW_MS,
    workflowId: resolved.workflowId ?? context.parentWorkflowId ?? (context.parentId ? context.parentId : null),
    parentId: context.parentId ?? null,
    scheduleName: context.scheduleName ?? null,
    scheduledFor: context.scheduledFor ?? null,
  };
}
