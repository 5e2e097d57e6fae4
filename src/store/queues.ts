/**
 * Queue-wide settings every worker reads inside its claim (paused queues and
 * the starvation guard's aging period), and the queues' summary for operators.
 */
import type { JobStatus } from "../core/states.ts";
import type { Database } from "./database.ts";
import { type ActiveNames, readQueueCounts } from "./stats.ts";

const SET_PAUSED = `INSERT INTO spool_queues (name, paused) VALUES (:name, :paused)
  ON CONFLICT (name) DO UPDATE SET paused = excluded.paused`;

const SET_AGING = `INSERT INTO spool_queues (name, aging_ms) VALUES (:name, :aging)
  ON CONFLICT (name) DO UPDATE SET aging_ms = excluded.aging_ms`;

const LIST = `SELECT name, paused, aging_ms FROM spool_queues ORDER BY name`;

// Raises a waiting job one level (10) per aging period waited, never lowering
// it; served by the ready index's queue filter and run only for aged queues.
const AGE_WAITING = `UPDATE spool_jobs
SET effective_priority = priority + 10 * ((:now - run_at) / q.aging_ms)
FROM spool_queues q
WHERE q.aging_ms IS NOT NULL AND spool_jobs.queue = q.name AND spool_jobs.status = 'pending'
  AND spool_jobs.run_at <= :now - q.aging_ms
  AND spool_jobs.effective_priority < spool_jobs.priority + 10 * ((:now - spool_jobs.run_at) / q.aging_ms)`;

export async function setQueuePaused(db: Database, name: string, paused: boolean): Promise<void> {
  await db.execute({ sql: SET_PAUSED, args: { name, paused: paused ? 1 : 0 } });
}

export async function setQueueAging(db: Database, name: string, agingMs: number | null): Promise<void> {
  await db.execute({ sql: SET_AGING, args: { name, aging: agingMs } });
}

export interface QueueSettings {
  name: string;
  paused: boolean;
  agingMs: number | null;
}

export async function listQueueSettings(db: Database): Promise<QueueSettings[]> {
  const result = await db.execute(LIST);
  return result.rows.map((r) => ({
    name: String(r.name),
    paused: Number(r.paused) === 1,
    agingMs: r.aging_ms === null ? null : Number(r.aging_ms),
  }));
}

const ANY_AGED_QUEUE = `SELECT 1 AS aged FROM spool_queues WHERE aging_ms IS NOT NULL LIMIT 1`;

/** Applies the starvation guard; returns how many jobs were raised. Takes no write lock while no queue ages. */
export async function ageWaitingJobs(db: Database, now: number): Promise<number> {
  if ((await db.execute(ANY_AGED_QUEUE)).rows.length === 0) return 0;
  const result = await db.execute({ sql: AGE_WAITING, args: { now } });
  return result.rowsAffected;
}

/** A queue as `GET /queues` shows it. */
export interface QueueSummary {
  name: string;
  paused: boolean;
  /** Jobs of the queue by status. */
  counts: Record<JobStatus, number>;
  /** How long the queue's longest-waiting pending job has been runnable, in ms; null when none is pending. */
  oldestPendingAgeMs: number | null;
}

/** Every queue that has jobs or settings, by name, with its counts and oldest pending job's age at `now`; costs what readQueueCounts does. */
export async function listQueues(db: Database, names: ActiveNames, now: number): Promise<QueueSummary[]> {
  const { counts, also } = await readQueueCounts(db, names, [LIST]);
  const queues = new Map<string, QueueSummary>();
  const queueOf = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = { name, paused: false, counts: { blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 }, oldestPendingAgeMs: null };
      queues.set(name, queue);
    }
    return queue;
  };
  for (const row of also[0]!.rows) queueOf(String(row.name)).paused = Number(row.paused) === 1;
  for (const row of counts) {
    const queue = queueOf(row.queue);
    queue.counts[row.status] += row.n;
    if (row.oldestRunAt !== null) queue.oldestPendingAgeMs = Math.max(0, now - row.oldestRunAt);
  }
  return [...queues.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
