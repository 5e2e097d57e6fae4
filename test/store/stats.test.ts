/**
 * Counting jobs for /stats, /metrics and /queues: exact counts by queue,
 * type and status whatever names the jobs carry, read from index entries
 * alone.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSpool } from "../../src/index.ts";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import type { JobStatus } from "../../src/core/states.ts";
import type { Spool } from "../../src/spool.ts";
import { STATS_SQL_FOR_PLAN, namedCountsSqlForPlan } from "../../src/store/stats.ts";
import { finishJobs } from "../support/finished-jobs.ts";
import { storeOf } from "../support/internals.ts";
import { libsqlServer } from "../support/sqld.ts";
import { openSpool } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const NOW = 1_800_000_000_000;

const fixedClock: Clock = { now: () => NOW, sleep: (ms, signal) => systemClock.sleep(ms, signal) };

async function setup(): Promise<Spool> {
  const opened = await openSpool({ clock: fixedClock });
  cleanups.push(opened.cleanup);
  return opened.spool;
}

const zero = (): Record<JobStatus, number> => ({ blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 });

// What the counts must say, read the slow way: every row of the table.
async function truth(spool: Spool) {
  const rows = (await storeOf(spool).db.execute("SELECT queue, type, status, count(*) AS n FROM spool_jobs GROUP BY queue, type, status")).rows;
  const counts = zero();
  const byType: Record<string, Record<JobStatus, number>> = {};
  const byQueue: Record<string, Record<JobStatus, number>> = {};
  for (const row of rows) {
    const status = String(row.status) as JobStatus;
    counts[status] += Number(row.n);
    (byType[String(row.type)] ??= zero())[status] += Number(row.n);
    (byQueue[String(row.queue)] ??= zero())[status] += Number(row.n);
  }
  const oldest = (await storeOf(spool).db.execute("SELECT queue, min(run_at) AS oldest FROM spool_jobs WHERE status = 'pending' GROUP BY queue")).rows;
  return { counts, byType, byQueue, oldest: new Map(oldest.map((r) => [String(r.queue), Number(r.oldest)])) };
}

async function expectExact(spool: Spool, now: number): Promise<void> {
  const expected = await truth(spool);
  const queues = await spool.listQueues();
  expect(Object.fromEntries(queues.map((q) => [q.name, q.counts]))).toEqual(expected.byQueue);
  expect(Object.fromEntries(queues.map((q) => [q.name, q.oldestPendingAgeMs]))).toEqual(
    Object.fromEntries(queues.map((q) => [q.name, expected.oldest.has(q.name) ? now - expected.oldest.get(q.name)! : null])),
  );
  const stats = await spool.stats();
  expect(stats.counts).toEqual(expected.counts);
  expect(stats.byType).toEqual(expected.byType);
  expect(stats.byQueue).toEqual(expected.byQueue);
}

// Moves jobs into an active status as a worker or the scheduler would leave them.
async function setStatus(spool: Spool, ids: string[], status: "scheduled" | "running" | "blocked"): Promise<void> {
  const set = status === "running" ? "status = 'running', attempts = 1, started_at = 1, lease_token = 't', lease_expires_at = 9e12, worker_id = 'w'"
    : status === "scheduled" ? "status = 'scheduled', run_at = 9e12" : "status = 'blocked'";
  await storeOf(spool).db.execute({ sql: `UPDATE spool_jobs SET ${set} WHERE id IN (SELECT value FROM json_each(:ids))`, args: { ids: JSON.stringify(ids.map(Number)) } });
}

async function enqueue(spool: Spool, count: number, type: string, queue: string, runAt = 1_000): Promise<string[]> {
  const items = Array.from({ length: count }, (_, i) => ({ type, payload: { i }, options: { queue, runAt: new Date(runAt + i) } }));
  return (await spool.enqueueMany(items)).map((r) => r.id);
}

// Jobs of every status over known queues and types, then names only active jobs carry, asking after each change.
async function countsThroughChanges(spool: Spool): Promise<void> {
  const now = NOW;
  const mail = await enqueue(spool, 12, "send", "mail");
  const bills = await enqueue(spool, 9, "bill", "default", 500);
  await finishJobs(spool, mail.slice(0, 3), "completed", now);
  await finishJobs(spool, bills.slice(0, 2), "dead", now);
  await setStatus(spool, mail.slice(3, 5), "running");
  await setStatus(spool, bills.slice(2, 4), "scheduled");
  await setStatus(spool, bills.slice(4, 5), "blocked");
  // a queue and a type no job of which has finished, and a queue known only by its settings
  const fresh = await enqueue(spool, 5, "novel", "fresh", 200);
  await setStatus(spool, fresh.slice(0, 1), "running");
  await setStatus(spool, fresh.slice(1, 2), "scheduled");
  await setStatus(spool, fresh.slice(2, 3), "blocked");
  await spool.pauseQueue("idle");
  await enqueue(spool, 2, "send", "idle", 300);

  await expectExact(spool, now);
  // asked again, once the names met among active jobs are known
  await expectExact(spool, now);
  // a queue that appears after the last count, with pending jobs of a known type
  const later = await enqueue(spool, 4, "send", "later", 100);
  await expectExact(spool, now);
  // and a type that appears after it, with a job of each active status
  const late = await enqueue(spool, 4, "late", "default", 50);
  await setStatus(spool, late.slice(0, 1), "scheduled");
  await setStatus(spool, late.slice(1, 2), "running");
  await setStatus(spool, late.slice(2, 3), "blocked");
  await expectExact(spool, now);
  // and jobs that finish or leave a queue
  await finishJobs(spool, [...fresh.slice(1), ...later], "cancelled", now);
  await expectExact(spool, now);
}

describe("job counts", () => {
  it("count every job exactly, whether its queue and type have finished jobs or exist only among active ones", async () => {
    await countsThroughChanges(await setup());
  });

  it("count every job exactly through a libSQL server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spool-stats-"));
    const server = await libsqlServer(dir);
    cleanups.push(async () => {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    await server.start();
    const spool = await createSpool({ url: server.url, clock: fixedClock });
    cleanups.push(() => spool.close());
    await countsThroughChanges(spool);
  }, 60_000);

  it("stay exact with more queue and type names than one pass tests", async () => {
    const spool = await setup();
    const now = NOW;
    for (let i = 0; i < 14; i++) {
      const ids = await enqueue(spool, 3, `type-${i}`, `queue-${i % 9}`, 1_000 + i);
      await finishJobs(spool, ids.slice(0, 1), "completed", now);
      await setStatus(spool, ids.slice(1, 2), i % 2 ? "scheduled" : "running");
    }
    await expectExact(spool, now);
    await expectExact(spool, now);
  });

  it("give the /metrics gauges of every queue and status", async () => {
    const spool = await setup();
    const ids = await enqueue(spool, 3, "send", "mail");
    await setStatus(spool, ids.slice(0, 1), "running");
    const text = await spool.metrics();
    expect(text).toContain('spool_jobs{queue="mail",status="pending"} 2');
    expect(text).toContain('spool_jobs{queue="mail",status="running"} 1');
  });

  it("read active jobs from index entries alone, in one pass without sorting", async () => {
    const spool = await setup();
    const explain = async (sql: string) => (await storeOf(spool).db.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: argsOf(sql) })).rows.map((r) => String(r.detail));
    for (const sql of namedCountsSqlForPlan(3, 2)) {
      expect(await explain(sql), sql).toEqual([expect.stringMatching(/^SCAN spool_jobs USING COVERING INDEX spool_jobs_(ready|due|leases|blocked)$/)]);
    }
  });

  it("read the finished counts, per-minute rows and workers from their tables' keys", async () => {
    const spool = await setup();
    const explain = async (sql: string) => (await storeOf(spool).db.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: argsOf(sql) })).rows.map((r) => String(r.detail));
    expect((await explain(STATS_SQL_FOR_PLAN.THROUGHPUT!)).join()).toMatch(/^SEARCH spool_stats_minutes USING PRIMARY KEY \(minute>\?\)/);
    expect((await explain(STATS_SQL_FOR_PLAN.LATENCY!)).join()).toMatch(/^SEARCH spool_stats_latency USING PRIMARY KEY \(minute>\?\)/);
    // spool_job_counts, spool_queues and spool_workers hold a row per queue, type and status, per queue, per live worker
    for (const sql of [STATS_SQL_FOR_PLAN.KNOWN_NAMES!, STATS_SQL_FOR_PLAN.FINISHED_COUNTS!, STATS_SQL_FOR_PLAN.WORKERS!, STATS_SQL_FOR_PLAN.WORKERS_SEEN!]) {
      expect((await explain(sql)).filter((d) => /spool_jobs\b/.test(d)), sql).toEqual([]);
    }
  });
});

function argsOf(sql: string): Record<string, unknown> {
  return Object.fromEntries([...new Set(sql.match(/:[a-z0-9]+/gi) ?? [])].map((name) => [name.slice(1), 0]));
}
