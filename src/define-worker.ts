/**
 * The shape of a jobs module's default export.
 */
import type { JobDefinition } from "./core/job-types.ts";
import type { EnqueueOptions } from "./core/options.ts";
import type { Route } from "./http/app.ts";

/** A cron schedule in a jobs module (see the scheduling docs). */
export interface ScheduleDefinition extends EnqueueOptions {
  cron: string;
  type: string;
  payload?: unknown;
  timezone?: string;
  catchUp?: "latest" | "none" | "all";
  noOverlap?: boolean;
}

export interface WorkerDefinition {
  jobs: Record<string, JobDefinition>;
  schedules?: Record<string, ScheduleDefinition>;
  routes?: Route[];
}

/** Types a jobs module. Identity at runtime: a plain object default export works the same. */
export function defineWorker<T extends WorkerDefinition>(definition: T): T {
  return definition;
}
