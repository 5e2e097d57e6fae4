/**
 * The shape of a jobs module's default export.
 */
import type { JobDefinition } from "./core/job-types.ts";
import type { ScheduleOptions } from "./core/schedule.ts";
import type { Route } from "./http/handler.ts";
import type { Spool } from "./spool.ts";

/**
 * A cron schedule in a jobs module: the worker defines it with
 * `spool.schedule(name, cron, options)` at start (docs/scheduling.md).
 */
export interface ScheduleDefinition extends ScheduleOptions {
  cron: string;
}

export interface WorkerDefinition {
  jobs: Record<string, JobDefinition>;
  schedules?: Record<string, ScheduleDefinition>;
  routes?: Route[];
  /**
   * Runs once in the worker after the Spool has opened the database and
   * defined the jobs and schedules, before any job runs or any request is
   * served: the place for a module's own tables (through `spool.sql`) and
   * for keeping the Spool its handlers need. A rejection stops the worker at
   * startup with the error's message.
   */
  setup?: (spool: Spool) => void | Promise<void>;
}

/** Types a jobs module. Identity at runtime: a plain object default export works the same. */
export function defineWorker<T extends WorkerDefinition>(definition: T): T {
  return definition;
}
