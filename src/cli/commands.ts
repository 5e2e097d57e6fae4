/**
 * The `spool` commands. Each reads its arguments first (a bad one is a
 * UsageError before the database is opened), then runs against a Spool and
 * answers once: with `--json`, the body the matching HTTP route answers;
 * otherwise a table or a sentence.
 */
import type { Job } from "../core/job.ts";
import { type EnqueueOptions } from "../core/options.ts";
import { LATEST_SCHEMA_VERSION } from "../store/migrate.ts";
import type { BulkProgress, Spool } from "../spool.ts";
import { type FlagSpec, UsageError } from "./args.ts";
import { parseDuration, parseInstant, parseInteger, parseJsonArgument, parsePriority } from "./flag-values.ts";
import type { ProgressDisplay } from "./progress.ts";
import { clip, duration, instant, table } from "./render.ts";
import { drawWorkflow } from "./workflow-tree.ts";

/** What a running command may use. */
export interface RunContext {
  spool: Spool;
  /** The database's URL without its query (which may hold a token). */
  database: string;
  /** Prints the answer: `body` as JSON with --json, else `human` (text, or a function making it). */
  answer(body: unknown, human: string | (() => string)): void;
  /** A progress display on stderr for a long operation. */
  progress(label: string): ProgressDisplay;
}

export interface CommandInput {
  positionals: string[];
  flags: Map<string, string | true>;
}

export interface Command {
  name: string;
  /** Arguments as help shows them after the name: "TYPE [JSON]". */
  synopsis: string;
  summary: string;
  /** More lines for `--help`. */
  details?: string;
  /** Positional arguments: at least `min`, at most `max`. */
  positionals: { min: number; max: number };
  flags: FlagSpec[];
  /** True for the one command that may create the database. */
  createsDatabase?: boolean;
  /** Reads the arguments (throwing UsageError) and returns the work. */
  prepare(input: CommandInput): (context: RunContext) => Promise<void>;
}

function text(flags: Map<string, string | true>, name: string): string | undefined {
  const value = flags.get(name);
  return value === undefined ? undefined : String(value);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function jobsTable(jobs: Job[]): string {
  return table(
    ["ID", "TYPE", "QUEUE", "STATUS", "ATTEMPTS", "RUN AT", "FINISHED", "LAST ERROR"],
    jobs.map((job) => [
      job.id,
      job.type,
      job.queue,
      job.status,
      `${job.attempts}/${job.maxAttempts}`,
      instant(job.runAt),
      instant(job.finishedAt),
      job.lastError ? clip(job.lastError, 50) : "",
    ]),
  );
}

function jobDetails(job: Job & { result?: unknown }): string {
  const rows: Array<[string, string | null]> = [
    ["queue", job.queue],
    ["priority", String(job.priority)],
    ["attempts", `${job.attempts} of ${job.maxAttempts}`],
    ["payload", clip(JSON.stringify(job.payload) ?? "null", 200)],
    ["result", "result" in job && job.result !== undefined ? clip(JSON.stringify(job.result) ?? "null", 200) : null],
    ["run at", instant(job.runAt)],
    ["created", instant(job.createdAt)],
    ["started", job.startedAt === null ? null : instant(job.startedAt)],
    ["finished", job.finishedAt === null ? null : instant(job.finishedAt)],
    ["worker", job.workerId],
    ["timeout", job.timeoutMs === null ? null : duration(job.timeoutMs)],
    ["last error", job.lastError === null ? null : clip(job.lastError, 200)],
    ["idempotency", job.idempotencyKey],
    ["workflow", job.workflowId],
    ["parent", job.parentId],
    ["schedule", job.scheduleName === null ? null : `${job.scheduleName}, tick ${instant(job.scheduledFor)}`],
  ];
  const shown = rows.filter((row): row is [string, string] => row[1] !== null);
  const width = Math.max(...shown.map(([label]) => label.length));
  let out = `job ${job.id}: ${job.type} (${job.status})\n`;
  out += shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n") + "\n";
  if (job.history.length > 0) {
    out += "\nhistory\n";
    out += table(
      ["#", "OUTCOME", "STARTED", "DURATION", "WORKER", "ERROR"],
      job.history.map((a) => [String(a.attempt), a.outcome, instant(a.startedAt), duration(a.durationMs), a.workerId ?? "-", a.error ? clip(a.error, 50) : ""]),
    );
  }
  return out;
}

/** Runs a bulk operation with a progress display that always finishes. */
async function withProgress<T>(context: RunContext, label: string, run: (onProgress: (p: BulkProgress) => void) => Promise<T>): Promise<T> {
  const display = context.progress(label);
  try {
    return await run((p) => display.update(p));
  } finally {
    display.finish();
  }
}

const idArgument = (input: CommandInput) => input.positionals[0]!;

export const COMMANDS: readonly Command[] = [
  {
    name: "migrate",
    synopsis: "",
    summary: "create the database, or bring its schema up to date",
    positionals: { min: 0, max: 0 },
    flags: [],
    createsDatabase: true,
    prepare: () => async (context) => {
      const { database } = context;
      context.answer({ database, schemaVersion: LATEST_SCHEMA_VERSION }, `database ${database} is at schema version ${LATEST_SCHEMA_VERSION}\n`);
    },
  },
  {
    name: "enqueue",
    synopsis: "TYPE [JSON]",
    summary: "add a job (JSON is its payload; none means null)",
    positionals: { min: 1, max: 2 },
    flags: [
      { name: "delay", value: "DURATION", help: "run no earlier than this long from now (10s, 5m, 2h)" },
      { name: "run-at", value: "ISO", help: "run no earlier than this instant (2030-01-01T09:00:00Z)" },
      { name: "priority", value: "P", help: "critical, high, normal, low, or an integer (higher runs first)" },
      { name: "key", value: "K", help: "idempotency key: at most one such job of this type at a time" },
      { name: "queue", value: "Q", help: 'the queue (default "default")' },
    ],
    prepare: (input) => {
      const [type, json] = input.positionals as [string, string | undefined];
      const payload = json === undefined ? null : parseJsonArgument(json, "the payload");
      const options: EnqueueOptions = {};
      const delay = text(input.flags, "delay");
      const runAt = text(input.flags, "run-at");
      if (delay !== undefined && runAt !== undefined) throw new UsageError("give --delay or --run-at, not both");
      if (delay !== undefined) options.delayMs = parseDuration(delay, "--delay");
      if (runAt !== undefined) options.runAt = parseInstant(runAt, "--run-at");
      const priority = text(input.flags, "priority");
      if (priority !== undefined) options.priority = parsePriority(priority, "--priority");
      const key = text(input.flags, "key");
      if (key !== undefined) options.idempotencyKey = key;
      const queue = text(input.flags, "queue");
      if (queue !== undefined) options.queue = queue;
      return async (context) => {
        const result = await context.spool.enqueue(type, payload, options);
        context.answer(result, () =>
          result.deduplicated
            ? `job ${result.id} already holds key ${JSON.stringify(key)} for ${type}; nothing new enqueued\n`
            : `enqueued job ${result.id} (${type})\n`,
        );
      };
    },
  },
  {
    name: "jobs",
    synopsis: "",
    summary: "list jobs in one status, oldest first (default: dead)",
    details: "With --queue, --workflow or --search, a page looks at the next 10,000 jobs and may list fewer than --limit; go on with --cursor.",
    positionals: { min: 0, max: 0 },
    flags: [
      { name: "status", value: "S", help: "scheduled, pending, running, completed, dead (default) or cancelled" },
      { name: "type", value: "T", help: "only jobs of this type" },
      { name: "queue", value: "Q", help: "only jobs of this queue" },
      { name: "workflow", value: "ID", help: "only jobs of this workflow" },
      { name: "search", value: "TEXT", help: "only jobs whose payload's JSON contains TEXT" },
      { name: "limit", value: "N", help: "jobs per page, 1-500 (default 50)" },
      { name: "cursor", value: "C", help: "the page after this cursor (from the previous page)" },
    ],
    prepare: (input) => {
      const limit = text(input.flags, "limit");
      const query = {
        status: (text(input.flags, "status") ?? "dead") as Job["status"],
        type: text(input.flags, "type"),
        queue: text(input.flags, "queue"),
        workflowId: text(input.flags, "workflow"),
        q: text(input.flags, "search"),
        limit: limit === undefined ? 50 : parseInteger(limit, "--limit"),
        cursor: text(input.flags, "cursor"),
      };
      return async (context) => {
        const page = await context.spool.listJobs(query);
        context.answer(page, () => {
          const listed = page.jobs.length === 0 ? `no ${query.status} jobs${page.nextCursor ? " on this page" : ""}\n` : jobsTable(page.jobs);
          return page.nextCursor === null ? listed : `${listed}more: --cursor ${page.nextCursor}\n`;
        });
      };
    },
  },
  {
    name: "job",
    synopsis: "ID",
    summary: "show one job with its attempt history",
    positionals: { min: 1, max: 1 },
    flags: [],
    prepare: (input) => async (context) => {
      const id = idArgument(input);
      const job = await context.spool.getJob(id);
      if (!job) throw notFound(id);
      context.answer(job, () => jobDetails(job));
    },
  },
  {
    name: "retry",
    synopsis: "ID | --dead",
    summary: "put a dead or cancelled job back in the queue, or every dead job",
    positionals: { min: 0, max: 1 },
    flags: [
      { name: "dead", help: "retry every dead job (of --type and --queue, when given)" },
      { name: "type", value: "T", help: "with --dead: only jobs of this type" },
      { name: "queue", value: "Q", help: "with --dead: only jobs of this queue" },
    ],
    prepare: (input) => {
      const dead = input.flags.has("dead");
      const [id] = input.positionals;
      if (dead && id !== undefined) throw new UsageError("give a job ID or --dead, not both");
      if (!dead && id === undefined) throw new UsageError("give a job ID, or --dead to retry every dead job");
      const type = text(input.flags, "type");
      const queue = text(input.flags, "queue");
      if (!dead && (type !== undefined || queue !== undefined)) throw new UsageError("--type and --queue go with --dead");
      if (!dead) {
        return async (context) => {
          await context.spool.retry(id!);
          context.answer({ id, status: "pending" }, `job ${id} is pending again\n`);
        };
      }
      return async (context) => {
        const retried = await withProgress(context, "retrying dead jobs", (onProgress) => context.spool.retryDead({ type, queue, onProgress }));
        context.answer({ retried }, `retried ${plural(retried, "dead job")}\n`);
      };
    },
  },
  {
    name: "cancel",
    synopsis: "ID",
    summary: "cancel a waiting job, or ask a running one to stop",
    positionals: { min: 1, max: 1 },
    flags: [],
    prepare: (input) => async (context) => {
      const id = idArgument(input);
      const status = await context.spool.cancel(id);
      context.answer({ id, status }, status === "cancelled" ? `job ${id} cancelled\n` : `job ${id} is running; asked it to stop (cancelling)\n`);
    },
  },
  {
    name: "purge",
    synopsis: "--status S",
    summary: "delete finished jobs (jobs of an unfinished workflow stay)",
    positionals: { min: 0, max: 0 },
    flags: [
      { name: "status", value: "S", help: "completed, dead or cancelled (required)" },
      { name: "older-than", value: "DURATION", help: "only jobs that finished at least this long ago (7d, 12h)" },
      { name: "type", value: "T", help: "only jobs of this type" },
    ],
    prepare: (input) => {
      const status = text(input.flags, "status");
      if (status === undefined) throw new UsageError("purge needs --status completed, dead or cancelled");
      const olderThan = text(input.flags, "older-than");
      const olderThanMs = olderThan === undefined ? undefined : parseDuration(olderThan, "--older-than");
      const type = text(input.flags, "type");
      return async (context) => {
        const purged = await withProgress(context, `purging ${status} jobs`, (onProgress) =>
          context.spool.purge({ status: status as "dead", olderThanMs, type, onProgress }),
        );
        context.answer({ purged }, `purged ${plural(purged, `${status} job`)}\n`);
      };
    },
  },
  {
    name: "stats",
    synopsis: "",
    summary: "count jobs by status (and, with --json, everything GET /stats answers)",
    positionals: { min: 0, max: 0 },
    flags: [],
    prepare: () => async (context) => {
      const stats = await context.spool.stats();
      context.answer({ ...stats, workerId: context.spool.workerId }, () =>
        table(["STATUS", "JOBS"], Object.entries(stats.counts).map(([status, n]) => [status, String(n)])),
      );
    },
  },
  {
    name: "queues",
    synopsis: "",
    summary: "list queues: paused or not, jobs by status, oldest pending job's wait",
    positionals: { min: 0, max: 0 },
    flags: [],
    prepare: () => async (context) => {
      const queues = await context.spool.listQueues();
      context.answer({ queues }, () =>
        queues.length === 0
          ? "no queues yet\n"
          : table(
              ["QUEUE", "PAUSED", "SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "DEAD", "CANCELLED", "OLDEST PENDING"],
              queues.map((q) => [
                q.name,
                q.paused ? "yes" : "no",
                ...(["scheduled", "pending", "running", "completed", "dead", "cancelled"] as const).map((s) => String(q.counts[s])),
                duration(q.oldestPendingAgeMs),
              ]),
            ),
      );
    },
  },
  {
    name: "schedules",
    synopsis: "",
    summary: "list cron schedules with their next and last fire times",
    positionals: { min: 0, max: 0 },
    flags: [],
    prepare: () => async (context) => {
      const schedules = await context.spool.listSchedules();
      context.answer({ schedules }, () =>
        schedules.length === 0
          ? "no schedules\n"
          : table(
              ["NAME", "CRON", "TIMEZONE", "TYPE", "STATE", "NEXT FIRE", "LAST FIRE"],
              schedules.map((s) => [s.name, s.cron, s.timezone ?? "UTC", s.type, s.paused ? "paused" : "active", instant(s.nextFireAt), instant(s.lastFireAt)]),
            ),
      );
    },
  },
  {
    name: "pause",
    synopsis: "QUEUE",
    summary: "hold a queue in every worker: running jobs finish, nothing new starts",
    positionals: { min: 1, max: 1 },
    flags: [],
    prepare: (input) => async (context) => {
      const queue = idArgument(input);
      await context.spool.pauseQueue(queue);
      context.answer({ queue, paused: true }, `queue ${queue} paused\n`);
    },
  },
  {
    name: "resume",
    synopsis: "QUEUE",
    summary: "release a paused queue",
    positionals: { min: 1, max: 1 },
    flags: [],
    prepare: (input) => async (context) => {
      const queue = idArgument(input);
      await context.spool.resumeQueue(queue);
      context.answer({ queue, paused: false }, `queue ${queue} resumed\n`);
    },
  },
  {
    name: "workflow",
    synopsis: "ID",
    summary: "draw a workflow's jobs as a tree",
    positionals: { min: 1, max: 1 },
    flags: [],
    prepare: (input) => async (context) => {
      const id = idArgument(input);
      const workflow = await context.spool.getWorkflow(id);
      if (!workflow) throw new CommandFailure("WORKFLOW_NOT_FOUND", `no workflow has id ${JSON.stringify(id)}`);
      context.answer(workflow, () => drawWorkflow(workflow));
    },
  },
];

/** A failed operation the CLI itself detects (exit status 1), with the code the HTTP API would answer. */
export class CommandFailure extends Error {
  override readonly name = "CommandFailure";
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

function notFound(id: string): CommandFailure {
  return new CommandFailure("JOB_NOT_FOUND", `no job has id ${JSON.stringify(id)}`);
}
