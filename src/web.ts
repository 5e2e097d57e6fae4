// spool/web: the same API as the main entry, for edge runtimes and browser-like
// bundles. Its import graph holds only Web-standard APIs and libSQL's HTTP
// protocol client: no native driver, no node: module. Databases are libSQL
// servers; a file: URL is refused (the main entry opens files). `serve` is the
// one export missing: a platform's own fetch entry serves createHandler.
export { createSpool } from "./create-web-spool.ts";
export { Spool } from "./spool.ts";
export type { DrainOptions, DrainSummary, EnqueueResult, LatencyPercentiles, ListJobsQuery, ListWorkflowsQuery, SpoolOptions, SpoolRuntime, SpoolStats, StartOptions, StartedWorkflow } from "./spool.ts";
export type { Workflow, WorkflowCounts, WorkflowJob, WorkflowPage, WorkflowStatus, WorkflowSummary } from "./store/workflows.ts";
export type { Row, SqlArgs, SqlExecutor, SqlQuery, SqlResult } from "./store/app-sql.ts";
export type { JobSummary, SpoolEventListener, SpoolEventMap, SpoolEventName } from "./core/events.ts";
export { defineWorker } from "./define-worker.ts";
export type { ScheduleDefinition, WorkerDefinition } from "./define-worker.ts";
export { SpoolError, PermanentError } from "./core/errors.ts";
export type { SpoolErrorCode } from "./core/errors.ts";
export { PRIORITY } from "./core/options.ts";
export type { EnqueueOptions, JobTypeOptions, RateLimit } from "./core/options.ts";
export type { CatchUp, ScheduleEnqueueOptions, ScheduleOptions } from "./core/schedule.ts";
export type { ScheduleRecord } from "./store/schedules.ts";
export type { Backoff, BackoffPolicy } from "./core/backoff.ts";
export type { Attempt, AttemptOutcome, Job, StagedJob } from "./core/job.ts";
export type { DependencyResult, JobContext, JobDefinition, JobHandler } from "./core/job-types.ts";
export type { JobStatus } from "./core/states.ts";
export { createJsonLogger } from "./core/logger.ts";
export type { Logger, LogLevel } from "./core/logger.ts";
export { createHandler, publicRoute } from "./http/handler.ts";
export type { Handler, HandlerOptions, Route, WaitUntilContext } from "./http/handler.ts";
export { signTrigger } from "./http/trigger.ts";
export type { Access } from "./http/access.ts";
export type { StopOptions } from "./services/spool-worker.ts";
