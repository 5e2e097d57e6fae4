/**
 * Claiming ahead: jobs a worker claimed beyond its free slots are leased like
 * running ones and renewed with them, go back unspent on stop, come back
 * through the reaper when their worker dies, are never of a limited type, and
 * never keep an idle worker from a job enqueued meanwhile.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PRIORITY } from "../../src/core/options.ts";
import { createSpool, type Spool } from "../../src/index.ts";
import { ROOT, type RunningProcess, currentRuntime, freePort, startWorker } from "../support/processes.ts";
import { deferred, tempDatabase, waitFor } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const LEASE_MS = 1000;

interface Row {
  id: string;
  status: string;
  attempts: number;
  worker_id: string | null;
  started_at: number | null;
  lease_expires_at: number | null;
}

async function rows(spool: Spool, ids: string[]): Promise<Row[]> {
  const result = await storeOf(spool).db.execute({
    sql: "SELECT id, status, attempts, worker_id, started_at, lease_expires_at FROM spool_jobs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
    args: [JSON.stringify(ids.map(Number))],
  });
  return result.rows.map((r) => ({
    id: String(r.id), status: String(r.status), attempts: Number(r.attempts), worker_id: r.worker_id === null ? null : String(r.worker_id),
    started_at: r.started_at === null ? null : Number(r.started_at), lease_expires_at: r.lease_expires_at === null ? null : Number(r.lease_expires_at),
  }));
}

/**
 * A worker at concurrency 1 that has run enough quick jobs to claim ahead,
 * then a blocking job claimed together with `ahead` quick jobs it buffers.
 * A buffer is capped at what the worker can start in a third of the lease,
 * so a large `ahead` needs a long `leaseMs`.
 */
async function bufferedBehindBlocker(ahead = 3, leaseMs = LEASE_MS) {
  const db = tempDatabase();
  cleanups.push(() => db.cleanup());
  const spool = await createSpool({ url: db.url, leaseMs, workerId: "buffering" });
  cleanups.push(() => spool.close());
  const ran: string[] = [];
  const blockerStarted = deferred();
  const release = deferred();
  spool.define("quick", (_p, ctx) => void ran.push(ctx.job.id));
  spool.define("blocker", async () => {
    blockerStarted.resolve();
    await release.promise;
  });
  // a slow idle poll makes "short" 50 ms, so a loaded machine does not turn the rule off
  const worker = await spool.start({ concurrency: 1, prefetch: ahead, minPollMs: 100 });
  cleanups.push(async () => {
    release.resolve();
    await worker.stop();
  });
  await spool.enqueueMany(Array.from({ length: 12 }, () => ({ type: "quick", payload: null })));
  await waitFor("the warm-up jobs completed", async () => (await spool.countJobs()).completed === 12);
  ran.length = 0;
  const enqueued = await spool.enqueueMany([{ type: "blocker", payload: null }, ...Array.from({ length: ahead }, () => ({ type: "quick", payload: null }))]);
  const [blockerId, ...bufferedIds] = enqueued.map((e) => e.id);
  await blockerStarted.promise;
  const claimed = await rows(spool, bufferedIds);
  // claimed with the blocker, not started: running, leased to this worker, their handlers not called
  expect(claimed.map((r) => [r.status, r.attempts, r.worker_id])).toEqual(bufferedIds.map(() => ["running", 1, "buffering"]));
  expect(ran).toEqual([]);
  return { spool, db, worker, ran, release, blockerId: blockerId!, bufferedIds };
}

describe("claiming ahead", () => {
  it("claims ahead by default, thirty-two jobs per slot", async () => {
    const db = tempDatabase();
    cleanups.push(() => db.cleanup());
    const spool = await createSpool({ url: db.url, leaseMs: LEASE_MS });
    cleanups.push(() => spool.close());
    const blockerStarted = deferred();
    const release = deferred();
    spool.define("quick", () => undefined);
    spool.define("blocker", async () => {
      blockerStarted.resolve();
      await release.promise;
    });
    const worker = await spool.start({ concurrency: 1, minPollMs: 100 });
    cleanups.push(async () => {
      release.resolve();
      await worker.stop();
    });
    await spool.enqueueMany(Array.from({ length: 12 }, () => ({ type: "quick", payload: null })));
    await waitFor("the warm-up jobs completed", async () => (await spool.countJobs()).completed === 12);
    await spool.enqueueMany([{ type: "blocker", payload: null }, ...Array.from({ length: 40 }, () => ({ type: "quick", payload: null }))]);
    await blockerStarted.promise;
    // the blocker in the one slot, thirty-two quick jobs buffered behind it, the rest left for any worker
    expect(await spool.countJobs()).toMatchObject({ running: 33, pending: 8, completed: 12 });
    release.resolve();
    await waitFor("every job completed", async () => (await spool.countJobs()).completed === 53);
  });

  it("writes a busy worker's outcomes with its next claim, one commit for both, not in commits of their own", async () => {
    const db = tempDatabase();
    cleanups.push(() => db.cleanup());
    const spool = await createSpool({ url: db.url });
    cleanups.push(() => spool.close());
    const store = storeOf(spool);
    const written = { withClaims: 0, alone: 0 };
    const completeJobs = store.completeJobs.bind(store);
    const completeAndClaim = store.completeAndClaim.bind(store);
    store.completeJobs = (outcomes, now) => ((written.alone += outcomes.length), completeJobs(outcomes, now));
    store.completeAndClaim = (outcomes, request, now) => ((written.withClaims += outcomes.length), completeAndClaim(outcomes, request, now));
    spool.define("quick", () => undefined);
    const count = 5_000;
    await spool.enqueueMany(Array.from({ length: count }, () => ({ type: "quick", payload: null })));
    const worker = await spool.start({ concurrency: 10 });
    cleanups.push(() => worker.stop());
    await waitFor("every job completed", async () => (await spool.countJobs()).completed === count);
    await waitFor("every outcome written", async () => written.withClaims + written.alone === count);
    // the last jobs' outcomes may go alone when no claim follows them
    expect(written.alone).toBeLessThanOrEqual(count / 10);
  });

  it("runs a buffer of 20,000 jobs whose handlers return plain values in claim order once the slot frees, without the stack growing with the buffer", async () => {
    const { spool, ran, release, bufferedIds } = await bufferedBehindBlocker(20_000, 60_000);
    release.resolve();
    await waitFor("every job completed", async () => (await spool.countJobs()).completed === 20_013, 30_000);
    expect(ran).toEqual(bufferedIds);
    expect(await spool.countJobs()).toMatchObject({ running: 0, pending: 0, dead: 0 });
  });

  it("hands buffered jobs back on stop with their attempts unspent, while the running job finishes", async () => {
    const { spool, worker, ran, release, blockerId, bufferedIds } = await bufferedBehindBlocker();
    const stopping = worker.stop({ graceMs: 30_000 });
    await waitFor("the buffered jobs back in the queue", async () => (await rows(spool, bufferedIds)).every((r) => r.status === "pending"));
    expect((await rows(spool, bufferedIds)).map((r) => r.attempts)).toEqual([0, 0, 0]);
    expect((await rows(spool, [blockerId]))[0]!.status).toBe("running");
    release.resolve();
    await stopping;
    expect((await rows(spool, [blockerId]))[0]!.status).toBe("completed");
    expect(ran).toEqual([]);
    for (const id of bufferedIds) {
      const job = await spool.getJob(id);
      expect(job!.history).toEqual([]);
    }
  });

  it("renews buffered leases with the running ones, so a buffer held longer than a lease keeps its jobs", async () => {
    const { spool, db, ran, release, bufferedIds } = await bufferedBehindBlocker();
    // another process's reaper, which takes any lease that runs out
    const other = await createSpool({ url: db.url, leaseMs: LEASE_MS, workerId: "reaper" });
    cleanups.push(() => other.close());
    const reaping = await other.start();
    cleanups.push(() => reaping.stop());
    const claimedAt = (await rows(spool, bufferedIds))[0]!.started_at!;
    await waitFor(
      "buffered leases renewed past two lease lengths",
      async () => (await rows(spool, bufferedIds)).every((r) => r.lease_expires_at! > claimedAt + 2 * LEASE_MS),
      20_000,
      50,
    );
    expect((await rows(spool, bufferedIds)).map((r) => [r.status, r.attempts])).toEqual(bufferedIds.map(() => ["running", 1]));
    release.resolve();
    await waitFor("every job completed", async () => (await spool.countJobs()).completed === 16);
    expect(ran).toEqual(bufferedIds);
    for (const id of bufferedIds) {
      const job = await spool.getJob(id);
      expect(job!.attempts).toBe(1);
      expect(job!.history.map((a) => a.outcome)).toEqual(["completed"]);
    }
  });

  it("never buffers jobs of a type with a global concurrency or rate limit", async () => {
    const db = tempDatabase();
    cleanups.push(() => db.cleanup());
    const spool = await createSpool({ url: db.url, leaseMs: LEASE_MS });
    cleanups.push(() => spool.close());
    const release = deferred();
    const blockerStarted = deferred();
    spool.define("quick", () => undefined);
    spool.define("limited", () => undefined, { concurrency: 5 });
    spool.define("rated", () => undefined, { rateLimit: { limit: 100, intervalMs: 1000 } });
    spool.define("blocker", async () => {
      blockerStarted.resolve();
      await release.promise;
    });
    const worker = await spool.start({ concurrency: 1, prefetch: 5, minPollMs: 100 });
    cleanups.push(async () => {
      release.resolve();
      await worker.stop();
    });
    await spool.enqueueMany(Array.from({ length: 12 }, () => ({ type: "quick", payload: null })));
    await waitFor("the warm-up jobs completed", async () => (await spool.countJobs()).completed === 12);
    const enqueued = await spool.enqueueMany([
      { type: "blocker", payload: null, options: { priority: PRIORITY.CRITICAL } },
      ...Array.from({ length: 3 }, () => ({ type: "limited", payload: null })),
      ...Array.from({ length: 3 }, () => ({ type: "rated", payload: null })),
      // behind the limited ones in priority: claimed ahead only past them
      ...Array.from({ length: 2 }, () => ({ type: "quick", payload: null, options: { priority: PRIORITY.LOW } })),
    ]);
    const ids = enqueued.map((e) => e.id);
    await blockerStarted.promise;
    await waitFor("the unlimited jobs claimed ahead", async () => (await rows(spool, ids.slice(7))).every((r) => r.status === "running"));
    expect((await rows(spool, ids.slice(1, 7))).map((r) => r.status)).toEqual(Array(6).fill("pending"));
    release.resolve();
    await waitFor("every job completed", async () => (await spool.countJobs()).completed === 21);
  });
});

describe("the prefetch option", () => {
  it("is refused unless a non-negative integer, naming the value", async () => {
    const db = tempDatabase();
    cleanups.push(() => db.cleanup());
    const spool = await createSpool({ url: db.url });
    cleanups.push(() => spool.close());
    for (const prefetch of [-1, 1.5, Number.NaN]) {
      await expect(spool.start({ prefetch })).rejects.toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringContaining(`prefetch must be a non-negative integer, got ${JSON.stringify(prefetch)}`) });
    }
  });
});

describe("claiming ahead in worker processes", () => {
  async function setup() {
    const db = tempDatabase();
    cleanups.push(() => db.cleanup());
    const log = join(db.dir, "runs.log");
    writeFileSync(log, "");
    const spool = await createSpool({ url: db.url, leaseMs: LEASE_MS });
    cleanups.push(() => spool.close());
    const procs: RunningProcess[] = [];
    cleanups.push(async () => {
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
    });
    const start = async () => {
      const proc = await startWorker(currentRuntime(), {
        SPOOL_DATABASE_URL: db.url,
        SPOOL_JOBS: join(ROOT, "test/fixtures/prefetch-jobs.mjs"),
        SPOOL_PORT: String(await freePort()),
        SPOOL_CONCURRENCY: "1",
        SPOOL_PREFETCH: "4",
        SPOOL_LEASE_MS: String(LEASE_MS),
        PREFETCH_LOG: log,
      });
      procs.push(proc);
      return proc;
    };
    const entries = () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as { event: string; id: string; type: string; at: number; pid: number });
    return { spool, start, entries };
  }

  it("brings a SIGKILLed worker's buffered jobs back once their leases expire", async () => {
    const { spool, start, entries } = await setup();
    const proc = await start();
    await spool.enqueueMany(Array.from({ length: 30 }, () => ({ type: "quick", payload: null })));
    await waitFor("the warm-up jobs completed", async () => (await spool.countJobs()).completed === 30);
    const enqueued = await spool.enqueueMany([{ type: "long", payload: { ms: 600_000 } }, ...Array.from({ length: 4 }, () => ({ type: "quick", payload: null }))]);
    const [longId, ...bufferedIds] = enqueued.map((e) => e.id);
    await waitFor("the long job started", () => entries().some((e) => e.id === longId));
    await waitFor("the quick jobs claimed ahead", async () => (await rows(spool, bufferedIds)).every((r) => r.status === "running"));
    proc.kill("SIGKILL");
    await proc.exited;
    const leasedUntil = Math.max(...(await rows(spool, bufferedIds)).map((r) => r.lease_expires_at!));
    // this process's reaper recovers them; it defines no type, so it runs none
    const reaping = await spool.start();
    cleanups.push(() => reaping.stop());
    await waitFor("the buffered jobs recovered", async () => (await rows(spool, bufferedIds)).every((r) => r.status !== "running"), 30_000, 50);
    for (const id of bufferedIds) {
      const job = (await spool.getJob(id))!;
      expect(job.history.map((a) => [a.outcome, a.workerId])).toEqual([["lease_expired", expect.any(String)]]);
      expect(job.history[0]!.finishedAt).toBeGreaterThanOrEqual(leasedUntil);
    }
    expect(entries().filter((e) => bufferedIds.includes(e.id))).toEqual([]);
  });

  it("lets an idle worker take jobs enqueued while the other worker is busy with a long job and its buffer", async () => {
    const { spool, start, entries } = await setup();
    await start();
    await start();
    await spool.enqueueMany(Array.from({ length: 40 }, () => ({ type: "quick", payload: null })));
    await waitFor("the warm-up jobs completed", async () => (await spool.countJobs()).completed === 40);
    const batch = await spool.enqueueMany([{ type: "long", payload: { ms: 4000 } }, ...Array.from({ length: 4 }, () => ({ type: "quick", payload: null }))]);
    const longId = batch[0]!.id;
    const long = await waitFor("the long job started", () => entries().find((e) => e.id === longId && e.event === "start"));
    const probes = (await spool.enqueueMany(Array.from({ length: 3 }, () => ({ type: "quick", payload: null })))).map((e) => e.id);
    await waitFor("every job completed", async () => (await spool.countJobs()).completed === 48, 30_000, 50);
    const log = entries();
    const longEnd = log.find((e) => e.id === longId && e.event === "end")!;
    const probeStarts = log.filter((e) => probes.includes(e.id));
    expect(probeStarts).toHaveLength(3);
    for (const probe of probeStarts) {
      expect(probe.pid).not.toBe(long.pid);
      expect(probe.at).toBeLessThan(longEnd.at);
    }
    // every job ran exactly once
    const starts = log.filter((e) => e.event === "start");
    expect(new Set(starts.map((e) => e.id)).size).toBe(starts.length);
    expect(starts).toHaveLength(48);
  });
});
