/**
 * What /stats and /metrics read, and what the stats recorder writes: counts
 * of jobs by queue, type and status (finished ones from spool_job_counts,
 * which triggers keep; active ones counted live from their partial indexes,
 * at a cost that grows with the jobs waiting or running, not with the
 * table), the per-minute counts and latency histograms, and the workers'
 * last sightings.
 */
import type { Database } from "./database.ts";

const FINISHED_COUNTS = `SELECT queue, type, status, n, NULL AS oldest FROM spool_job_counts WHERE n > 0`;

// The status is written into the SQL so SQLite sees each partial index cover its query.
const ACTIVE_INDEX: Record<string, string> = {
  scheduled: "spool_jobs_due",
  pending: "spool_jobs_ready",
  running: "spool_jobs_leases",
  blocked: "spool_jobs_blocked",
};
const ACTIVE_COUNTS = Object.entries(ACTIVE_INDEX)
  .map(([status, index]) => `SELECT queue, type, '${status}' AS status, count(*) AS n, min(run_at) AS oldest
    FROM spool_jobs INDEXED BY ${index} WHERE status = '${status}' GROUP BY queue, type`)
  .join(" UNION ALL ");

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

/** Jobs of one queue, type and status; `oldestRunAt` only for pending and the other active statuses. */
export interface CountRow {
  queue: string;
  type: string;
  status: string;
  n: number;
  oldestRunAt: number | null;
}

export interface StatsRows {
  counts: CountRow[];
  throughput: Array<{ minute: number; completed: number; failed: number; dead: number }>;
  latency: Array<{ type: string; kind: "run" | "wait"; bucket: number; n: number }>;
  workers: Array<{ id: string; lastSeenAt: number }>;
}

/** Counts by queue, type and status, in one read transaction. */
export async function readCounts(db: Database): Promise<CountRow[]> {
  const [finished, active] = await db.batch([FINISHED_COUNTS, ACTIVE_COUNTS], "read");
  return [...finished!.rows, ...active!.rows].map(countRow);
}

function countRow(r: Record<string, unknown>): CountRow {
  return { queue: String(r.queue), type: String(r.type), status: String(r.status), n: Number(r.n), oldestRunAt: r.oldest === null ? null : Number(r.oldest) };
}

/** Everything /stats shows but the schedules, in one read transaction: per-minute rows from `minutesFrom`, latency from `latencyFrom`. */
export async function readStats(db: Database, minutesFrom: number, latencyFrom: number): Promise<StatsRows> {
  const [finished, active, throughput, latency, workers] = await db.batch(
    [
      FINISHED_COUNTS,
      ACTIVE_COUNTS,
      { sql: THROUGHPUT, args: { from: minutesFrom } },
      { sql: LATENCY, args: { from: latencyFrom } },
      WORKERS,
    ],
    "read",
  );
  return {
    counts: [...finished!.rows, ...active!.rows].map(countRow),
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
