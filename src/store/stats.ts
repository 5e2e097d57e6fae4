/**
 * What /stats, /metrics and /queues read, and what the stats recorder
 * writes: counts of jobs by queue, type and status (finished ones from
 * spool_job_counts, which triggers keep; active ones counted live from the
 * entries of their partial indexes, at a cost that grows with the jobs
 * waiting or running, not with the table), the per-minute counts and latency
 * histograms, and the workers' last sightings.
 */
import type { JobStatus } from "../core/states.ts";
import type { QueryResult, SqlStatement } from "./connection.ts";
import type { Database } from "./database.ts";

const FINISHED_COUNTS = `SELECT queue, type, status, n FROM spool_job_counts WHERE n > 0`;

type ActiveStatus = "blocked" | "scheduled" | "pending" | "running";

// Each ends with (type, queue) since migration 7, so a count reads index
// entries alone. The status is written into the SQL so SQLite sees each
// partial index cover its query.
const ACTIVE_INDEX: Record<ActiveStatus, string> = {
  blocked: "spool_jobs_blocked",
  scheduled: "spool_jobs_due",
  pending: "spool_jobs_ready",
  running: "spool_jobs_leases",
};
const ACTIVE = Object.keys(ACTIVE_INDEX) as ActiveStatus[];
const from = (status: ActiveStatus) => `FROM spool_jobs INDEXED BY ${ACTIVE_INDEX[status]} WHERE status = '${status}'`;

// The queues and types nearly every active job belongs to, from small tables:
// queues with settings, and the queues and types that have finished a job.
const KNOWN_NAMES = `SELECT 'queue' AS kind, name AS key FROM spool_queues
  UNION SELECT 'queue', queue FROM spool_job_counts UNION SELECT 'type', type FROM spool_job_counts`;

// GROUP BY over columns the index is not ordered by sorts every entry, 0.5-0.8
// us each (40 ms at 50,000 pending jobs). One pass that tests each entry
// against a known list of names costs about 0.1 us plus 0.02 us a name, so
// the counts are read that way, each with its total: when the named counts do
// not add up to it, some job has a name the list missed, and the answer comes
// from the sorting queries instead. Past this many names the sort is cheaper.
// The names are bound; only how many there are shapes the statement.
const MAX_NAMED = 20;

// Pending jobs are grouped by type for free (the ready index starts with it).
const pendingByTypeSql = (queues: number) =>
  `SELECT type, count(*) AS n${named("queue", queues, false)} ${from("pending")} GROUP BY type`;
const namedCountsSql = (status: ActiveStatus, queues: number, types: number, oldest: boolean) =>
  `SELECT count(*) AS n${named("queue", queues, oldest)}${named("type", types, false)} ${from(status)}`;
const named = (column: "queue" | "type", count: number, oldest: boolean) =>
  Array.from({ length: count }, (_, i) => {
    const key = `${column[0]}${i}`;
    return `, count(*) FILTER (WHERE ${column} = :${key}) AS ${key}` + (oldest ? `, min(run_at) FILTER (WHERE ${column} = :${key}) AS o${i}` : "");
  }).join("");

/** Every one-pass count statement, for `queues` and `types` names, as plan tests read them. */
export function namedCountsSqlForPlan(queues: number, types: number): string[] {
  return [pendingByTypeSql(queues), ...ACTIVE.flatMap((status) => [namedCountsSql(status, queues, types, false), namedCountsSql(status, queues, 0, status === "pending")])];
}

const sortedCountsSql = (status: ActiveStatus, byType: boolean) =>
  `SELECT queue, ${byType ? "type" : "NULL AS type"}, count(*) AS n${status === "pending" ? ", min(run_at) AS oldest" : ""} ${from(status)} GROUP BY queue${byType ? ", type" : ""}`;

const THROUGHPUT = `SELECT minute, sum(completed) AS completed, sum(failed) AS failed, sum(dead) AS dead
  FROM spool_stats_minutes WHERE minute >= :from GROUP BY minute`;

const LATENCY = `SELECT type, kind, bucket, sum(n) AS n FROM spool_stats_latency WHERE minute >= :from GROUP BY type, kind, bucket`;

const WORKERS = `SELECT id, last_seen_at FROM spool_workers ORDER BY last_seen_at DESC, id`;

const WORKERS_SEEN = `SELECT count(*) AS n FROM spool_workers WHERE last_seen_at > :since`;

const ADD_MINUTES = `INSERT INTO spool_stats_minutes (minute, type, completed, failed, dead)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(:rows) WHERE true
  ON CONFLICT (minute, type) DO UPDATE SET completed = completed + excluded.completed,
    failed = failed + excluded.failed, dead = dead + excluded.dead`;

const ADD_LATENCY = `INSERT INTO spool_stats_latency (minute, type, kind, bucket, n)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(:rows) WHERE true
  ON CONFLICT (minute, type, kind, bucket) DO UPDATE SET n = n + excluded.n`;

const SEEN = `INSERT INTO spool_workers (id, started_at, last_seen_at) VALUES (:id, :startedAt, :now)
  ON CONFLICT (id) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)`;

const PRUNE_MINUTES = `DELETE FROM spool_stats_minutes WHERE minute < :before`;
const PRUNE_LATENCY = `DELETE FROM spool_stats_latency WHERE minute < :before`;
const PRUNE_WORKERS = `DELETE FROM spool_workers WHERE last_seen_at < :before`;
const FORGET_WORKER = `DELETE FROM spool_workers WHERE id = :id`;

/** The statements /stats reads beside the counts, as plan tests read them. */
export const STATS_SQL_FOR_PLAN: Readonly<Record<string, string>> = { KNOWN_NAMES, FINISHED_COUNTS, THROUGHPUT, LATENCY, WORKERS, WORKERS_SEEN };

/** Jobs of one queue in one status; `oldestRunAt` is the run time of its longest-waiting job, on pending rows only. */
export interface QueueCount {
  queue: string;
  status: JobStatus;
  n: number;
  oldestRunAt: number | null;
}

/** Jobs of one type in one status. */
export interface TypeCount {
  type: string;
  status: JobStatus;
  n: number;
}

/** Every job counted once by queue and once by type; no row has n = 0. */
export interface JobCounts {
  byQueue: QueueCount[];
  /** Empty when only the queues were asked for. */
  byType: TypeCount[];
}

export interface StatsRows {
  counts: JobCounts;
  throughput: Array<{ minute: number; completed: number; failed: number; dead: number }>;
  latency: Array<{ type: string; kind: "run" | "wait"; bucket: number; n: number }>;
  workers: Array<{ id: string; lastSeenAt: number }>;
}

/**
 * The queue and type names the last counts found among active jobs, added to
 * the known list of the next count so that a queue or type whose jobs have
 * not finished yet is named too. One per Store; only ever a hint, as every
 * count checks its names against its total.
 */
export class ActiveNames {
  queues = new Set<string>();
  types = new Set<string>();
}

interface CountRequest {
  byType: boolean;
  /** Read in the same transaction as the counts. */
  also: SqlStatement[];
}

/**
 * Counts by queue and status (with each queue's oldest pending run time) and,
 * when `byType`, by type and status, in one read transaction with `also`,
 * whose results come back in order. Exact: a named count that does not add
 * up is read again by sorting, in a fresh transaction with `also`.
 */
async function readJobCounts(db: Database, names: ActiveNames, request: CountRequest): Promise<{ counts: JobCounts; also: QueryResult[] }> {
  const known = await db.execute(KNOWN_NAMES);
  const queues = new Set(names.queues);
  const types = new Set(names.types);
  for (const row of known.rows) (row.kind === "queue" ? queues : types).add(String(row.key));
  const queueList = [...queues];
  const typeList = request.byType ? [...types] : [];
  if (queueList.length + typeList.length <= MAX_NAMED) {
    const args: Record<string, string> = {};
    queueList.forEach((name, i) => (args[`q${i}`] = name));
    typeList.forEach((name, i) => (args[`t${i}`] = name));
    const statements: SqlStatement[] = [FINISHED_COUNTS];
    for (const status of ACTIVE) {
      const sql = status === "pending" && request.byType
        ? pendingByTypeSql(queueList.length)
        : namedCountsSql(status, queueList.length, typeList.length, status === "pending");
      statements.push({ sql, args: pick(args, sql) });
    }
    const [finished, ...rest] = await db.batch([...statements, ...request.also], "read");
    const counts = new Tally(finished!.rows);
    const complete = ACTIVE.every((status, i) => counts.addNamed(status, rest[i]!, queueList, typeList, request.byType));
    if (complete) {
      remember(names, counts, request.byType);
      return { counts: counts.result(request.byType), also: rest.slice(ACTIVE.length) };
    }
  }
  const [finished, ...rest] = await db.batch([FINISHED_COUNTS, ...ACTIVE.map((s) => sortedCountsSql(s, request.byType)), ...request.also], "read");
  const counts = new Tally(finished!.rows);
  ACTIVE.forEach((status, i) => counts.addSorted(status, rest[i]!));
  remember(names, counts, request.byType);
  return { counts: counts.result(request.byType), also: rest.slice(ACTIVE.length) };
}

// Only the names a statement uses: a driver may refuse an argument it has no place for.
function pick(args: Record<string, string>, sql: string): Record<string, string> {
  return Object.fromEntries(Object.entries(args).filter(([key]) => sql.includes(`:${key})`)));
}

// A count by queue alone says nothing about the types, so it keeps those it had.
function remember(names: ActiveNames, counts: Tally, byType: boolean): void {
  names.queues = new Set(counts.activeQueues);
  if (byType) names.types = new Set(counts.activeTypes);
}

/** Sums rows into counts by (queue, status) and (type, status). */
class Tally {
  readonly #byQueue = new Map<string, QueueCount>();
  readonly #byType = new Map<string, TypeCount>();
  readonly activeQueues = new Set<string>();
  readonly activeTypes = new Set<string>();

  constructor(finished: Array<Record<string, unknown>>) {
    for (const row of finished) {
      const status = String(row.status) as JobStatus;
      this.#addQueue(String(row.queue), status, Number(row.n), null);
      this.#addType(String(row.type), status, Number(row.n));
    }
  }

  /** Adds a named count; false when its names do not account for every job it counted. */
  addNamed(status: ActiveStatus, result: QueryResult, queues: string[], types: string[], byType: boolean): boolean {
    for (const row of result.rows) {
      const total = Number(row.n);
      let inQueues = 0;
      queues.forEach((_, i) => (inQueues += Number(row[`q${i}`])));
      if (inQueues !== total) return false;
      if (byType && status !== "pending") {
        let inTypes = 0;
        types.forEach((_, i) => (inTypes += Number(row[`t${i}`])));
        if (inTypes !== total) return false;
      }
    }
    for (const row of result.rows) {
      queues.forEach((queue, i) => this.#addQueue(queue, status, Number(row[`q${i}`]), row[`o${i}`] == null ? null : Number(row[`o${i}`])));
      if (!byType) continue;
      if (status === "pending") this.#addType(String(row.type), status, Number(row.n));
      else types.forEach((type, i) => this.#addType(type, status, Number(row[`t${i}`])));
    }
    return true;
  }

  addSorted(status: ActiveStatus, result: QueryResult): void {
    for (const row of result.rows) {
      this.#addQueue(String(row.queue), status, Number(row.n), status === "pending" ? Number(row.oldest) : null);
      if (row.type !== null) this.#addType(String(row.type), status, Number(row.n));
    }
  }

  result(byType: boolean): JobCounts {
    return { byQueue: [...this.#byQueue.values()], byType: byType ? [...this.#byType.values()] : [] };
  }

  #addQueue(queue: string, status: JobStatus, n: number, oldestRunAt: number | null): void {
    if (n === 0) return;
    if (status === "blocked" || status === "scheduled" || status === "pending" || status === "running") this.activeQueues.add(queue);
    const key = `${status} ${queue}`;
    const row = this.#byQueue.get(key);
    if (!row) this.#byQueue.set(key, { queue, status, n, oldestRunAt });
    else {
      row.n += n;
      if (oldestRunAt !== null) row.oldestRunAt = row.oldestRunAt === null ? oldestRunAt : Math.min(row.oldestRunAt, oldestRunAt);
    }
  }

  #addType(type: string, status: JobStatus, n: number): void {
    if (n === 0) return;
    if (status === "blocked" || status === "scheduled" || status === "pending" || status === "running") this.activeTypes.add(type);
    const key = `${status} ${type}`;
    const row = this.#byType.get(key);
    if (!row) this.#byType.set(key, { type, status, n });
    else row.n += n;
  }
}

/**
 * Counts by queue and status, with each queue's oldest pending run time, in
 * one read transaction with `also`, whose results follow in order.
 */
export async function readQueueCounts(db: Database, names: ActiveNames, also: SqlStatement[] = []): Promise<{ counts: QueueCount[]; also: QueryResult[] }> {
  const result = await readJobCounts(db, names, { byType: false, also });
  return { counts: result.counts.byQueue, also: result.also };
}

/** Everything /stats shows but the schedules, in one read transaction: per-minute rows from `minutesFrom`, latency from `latencyFrom`. */
export async function readStats(db: Database, names: ActiveNames, minutesFrom: number, latencyFrom: number): Promise<StatsRows> {
  const { counts, also } = await readJobCounts(db, names, {
    byType: true,
    also: [{ sql: THROUGHPUT, args: { from: minutesFrom } }, { sql: LATENCY, args: { from: latencyFrom } }, WORKERS],
  });
  const [throughput, latency, workers] = also;
  return {
    counts,
    throughput: throughput!.rows.map((r) => ({ minute: Number(r.minute), completed: Number(r.completed), failed: Number(r.failed), dead: Number(r.dead) })),
    latency: latency!.rows.map((r) => ({ type: String(r.type), kind: String(r.kind) as "run" | "wait", bucket: Number(r.bucket), n: Number(r.n) })),
    workers: workers!.rows.map((r) => ({ id: String(r.id), lastSeenAt: Number(r.last_seen_at) })),
  };
}

/** How many workers were seen after `since`. */
export async function countWorkersSeen(db: Database, since: number): Promise<number> {
  return Number((await db.execute({ sql: WORKERS_SEEN, args: { since } })).rows[0]!.n);
}

/** What one process adds to the stats in one write. */
export interface StatsWrite {
  /** [minute, type, completed, failed, dead] */
  minutes: Array<[number, string, number, number, number]>;
  /** [minute, type, kind, bucket, n] */
  latency: Array<[number, string, "run" | "wait", number, number]>;
  worker: { id: string; startedAt: number; now: number };
  /** Per-minute rows before this are deleted. */
  minutesBefore: number;
  /** Workers not seen since this are forgotten. */
  workersBefore: number;
}

/** Adds one process's counts and latencies, marks the worker seen, and trims what is too old to show, in one transaction. */
export async function writeStats(db: Database, write: StatsWrite): Promise<void> {
  const statements = [];
  if (write.minutes.length > 0) statements.push({ sql: ADD_MINUTES, args: { rows: JSON.stringify(write.minutes) } });
  if (write.latency.length > 0) statements.push({ sql: ADD_LATENCY, args: { rows: JSON.stringify(write.latency) } });
  statements.push(
    { sql: SEEN, args: write.worker },
    { sql: PRUNE_MINUTES, args: { before: write.minutesBefore } },
    { sql: PRUNE_LATENCY, args: { before: write.minutesBefore } },
    { sql: PRUNE_WORKERS, args: { before: write.workersBefore } },
  );
  await db.batch(statements, "write");
}

/** Removes a worker that stopped. */
export async function forgetWorker(db: Database, id: string): Promise<void> {
  await db.execute({ sql: FORGET_WORKER, args: { id } });
}
