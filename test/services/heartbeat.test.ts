/**
 * The heartbeat renews the leases of running attempts. A renewal that runs
 * while the completer writes the outcome of an attempt that already finished
 * must not take that job for one whose lease was lost.
 */
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import type { Logger } from "../../src/core/logger.ts";
import { SpoolWorker } from "../../src/services/spool-worker.ts";
import { servicesOnClock } from "../support/services.ts";
import { deferred, openSpool, waitFor } from "../support/system.ts";
import { storeOf, typesOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const logger: Logger = {
    debug: (message, fields) => lines.push({ level: "debug", message, fields }),
    info: (message, fields) => lines.push({ level: "info", message, fields }),
    warn: (message, fields) => lines.push({ level: "warn", message, fields }),
    error: (message, fields) => lines.push({ level: "error", message, fields }),
  };
  return { logger, lines };
}

async function setup() {
  const { spool, cleanup } = await openSpool({ workerId: "heartbeat-worker" });
  cleanups.push(cleanup);
  const { logger, lines } = recordingLogger();
  // the worker's services, driven one pass at a time instead of by their loops
  const worker = new SpoolWorker({
    store: storeOf(spool), types: typesOf(spool), clock: systemClock, logger, workerId: "heartbeat-worker", concurrency: 50,
    queues: null, leaseMs: 30_000, maxPayloadBytes: spool.maxPayloadBytes, newToken: () => crypto.randomUUID(),
  });
  return { spool, worker, lines };
}

describe("heartbeat", () => {
  it("extends every running attempt's lease to the pass's now plus leaseMs, and no other job's", async () => {
    const services = await servicesOnClock({ leaseMs: 1000 });
    cleanups.push(services.cleanup);
    const { spool, worker, clock, lease } = services;
    const release = deferred();
    spool.define("long", () => release.promise);
    const { id } = await spool.enqueue("long", null);
    const { id: waiting } = await spool.enqueue("later", null);
    const t0 = clock.t;
    await worker.producer.runOnce(t0);
    expect(await lease(id)).toMatchObject({ status: "running", leaseExpiresAt: t0 + 1000 });

    clock.t = t0 + 600;
    // the next pass comes a third of a lease later
    expect(await worker.heartbeat.runOnce(clock.t)).toBe(333);
    expect(await lease(id)).toMatchObject({ status: "running", startedAt: t0, leaseExpiresAt: t0 + 1600 });
    expect(await lease(waiting)).toEqual({ status: "pending", startedAt: null, leaseExpiresAt: null, workerId: null });
    // renewed in time: past the first expiry no reaper anywhere would find it, at the new one it would
    expect(await storeOf(spool).findExpiredLeases(t0 + 1200, 10)).toEqual([]);
    expect((await storeOf(spool).findExpiredLeases(t0 + 1600, 10)).map((job) => job.id)).toEqual([id]);

    release.resolve();
    await waitFor("the job to complete", async () => (await spool.getJob(id))?.status === "completed");
  });

  it("does not take a renewal that races the completion of finished attempts for a lost lease", async () => {
    const { spool, worker, lines } = await setup();
    let aborted = 0;
    spool.define("quick", (_payload, ctx) => {
      ctx.signal.addEventListener("abort", () => aborted++);
      return "done";
    });
    await spool.enqueueMany(Array.from({ length: 40 }, (_, n) => ({ type: "quick", payload: { n } })));
    const claimed = await storeOf(spool).claimJobs({
      limit: 40, types: new Map([["quick", {}]]), queues: null, workerId: "heartbeat-worker", token: crypto.randomUUID(), now: Date.now(), leaseMs: 30_000,
    });
    expect(claimed).toHaveLength(40);
    // every handler has returned and its outcome waits in the completer
    const runs = await Promise.all(claimed.map((job) => worker.executor.run(job)));
    expect(worker.running.size).toBe(40);
    // the completion batch reaches the database first, the renewal of the same attempts right after it
    await Promise.all([worker.completer.runOnce(Date.now()), worker.heartbeat.runOnce(Date.now())]);
    await Promise.all(runs.map((run) => run.written));

    expect(lines.filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
    expect(aborted).toBe(0);
    const completed = await spool.listJobs({ status: "completed", limit: 100 });
    expect(completed.jobs).toHaveLength(40);
    expect(completed.jobs.every((job) => job.attempts === 1)).toBe(true);
    expect(worker.running.size).toBe(0);
  });

  it("still stops an attempt whose lease another worker took over", async () => {
    const { spool, worker, lines } = await setup();
    const release = deferred();
    let reason: unknown = null;
    spool.define("slow", async (_payload, ctx) => {
      ctx.signal.addEventListener("abort", () => (reason = ctx.signal.reason));
      await release.promise;
    });
    const { id } = await spool.enqueue("slow", null);
    const [job] = await storeOf(spool).claimJobs({
      limit: 1, types: new Map([["slow", {}]]), queues: null, workerId: "heartbeat-worker", token: "first", now: Date.now(), leaseMs: 30_000,
    });
    const run = worker.executor.run(job!);
    // another worker's claim after the lease ran out: a new token on the same running row
    await storeOf(spool).db.execute({ sql: "UPDATE spool_jobs SET lease_token = 'second' WHERE id = ?", args: [Number(id)] });
    await worker.heartbeat.runOnce(Date.now());
    release.resolve();
    await (await run).written;

    expect(lines.filter((l) => l.message === "lease lost; stopping the attempt").map((l) => l.fields?.jobId)).toEqual([id]);
    expect((reason as { code?: string } | null)?.code).toBe("LEASE_LOST");
    expect(await spool.getJob(id)).toMatchObject({ status: "running", attempts: 1 });
  });
});
