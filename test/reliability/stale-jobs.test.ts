/**
 * Stale jobs: a worker process killed with SIGKILL leaves leases that expire;
 * the reaper in a new worker process returns those jobs to the retry path
 * with a `lease_expired` attempt, and every job still completes. Runs the
 * worker on the runtime this suite runs on.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Job } from "../../src/core/job.ts";
import { createSpool, type Spool } from "../../src/index.ts";
import { ROOT, currentRuntime, freePort, type RunningProcess, startWorker } from "../support/processes.ts";
import { tempDatabase, waitFor } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const LEASE_MS = 1500;

async function setup() {
  const db = tempDatabase();
  cleanups.push(db.cleanup);
  const spool = await createSpool({ url: db.url });
  cleanups.push(() => spool.close());
  const worker = async (env: Record<string, string>): Promise<RunningProcess> => {
    const proc = await startWorker(currentRuntime(), {
      SPOOL_DATABASE_URL: db.url,
      SPOOL_JOBS: join(ROOT, "test/fixtures/hold-jobs.mjs"),
      SPOOL_PORT: String(await freePort()),
      SPOOL_LEASE_MS: String(LEASE_MS),
      SPOOL_CONCURRENCY: "50",
      ...env,
    });
    cleanups.push(async () => {
      proc.kill("SIGKILL");
      await proc.exited;
    });
    return proc;
  };
  const allOf = async (status: Job["status"], s: Spool = spool) => (await s.listJobs({ status, limit: 500 })).jobs;
  return { spool, worker, allOf };
}

describe("stale-job recovery", () => {
  it("completes every job after a worker is killed with SIGKILL in the middle of 50 running jobs, each recovered by exactly one of two reapers", async () => {
    const { spool, worker, allOf } = await setup();
    const results = await spool.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: "hold", payload: { n: i } })));
    const ids = results.map((r) => r.id);

    const doomed = await worker({ FIXTURE_HOLD_MS: "600000" });
    const running = await waitFor("50 running jobs", async () => {
      const jobs = await allOf("running");
      return jobs.length === 50 ? jobs : null;
    }, 60_000);
    const doomedId = running[0]!.workerId!;
    expect(running.every((j) => j.workerId === doomedId && j.attempts === 1)).toBe(true);

    doomed.kill("SIGKILL");
    expect(await doomed.exited).toBe("SIGKILL");
    // nothing recovers the jobs until a live reaper sees the leases expire
    expect((await allOf("running")).map((j) => j.id).sort()).toEqual([...ids].sort());

    // two new workers, so two reapers race for each expired lease: exactly one may act on it
    const rescuers = await Promise.all([worker({ FIXTURE_HOLD_MS: "0" }), worker({ FIXTURE_HOLD_MS: "0" })]);
    const completed = await waitFor("all 50 jobs completed", async () => {
      const jobs = await allOf("completed");
      return jobs.length === 50 ? jobs : null;
    }, 60_000);

    expect(completed.map((j) => j.id)).toEqual(ids);
    expect(await spool.countJobs()).toEqual({ blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 50, dead: 0, cancelled: 0 });
    for (const job of completed) {
      expect(job.attempts).toBe(2);
      expect(job.history.map((a) => a.outcome)).toEqual(["lease_expired", "completed"]);
      const [expired, done] = job.history;
      expect(expired!.workerId).toBe(doomedId);
      expect(expired!.error).toContain(`lease expired: worker ${doomedId}`);
      expect(expired!.finishedAt).toBeGreaterThanOrEqual(expired!.startedAt + LEASE_MS);
      expect(done!.workerId).not.toBe(doomedId);
      expect(job.payload).toEqual({ n: ids.indexOf(job.id) });
    }
    const recoveries = rescuers.map((r) => r.output().split("recovered a job whose lease expired").length - 1);
    expect(recoveries[0]! + recoveries[1]!).toBe(50);
  });

  it("renews the lease of a job that runs for several lease periods, so another process's reaper leaves it alone", async () => {
    const { spool } = await setup();
    const { createSpool: open } = await import("../../src/index.ts");
    const leaseMs = 300;
    const url = storeOf(spool).db.url;
    const runner = await open({ url, leaseMs, workerId: "runner" });
    const watcher = await open({ url, leaseMs, workerId: "watcher" });
    cleanups.push(() => runner.close(), () => watcher.close());
    let heartbeats = 0;
    runner.define("long", async (_p, ctx) => {
      const until = Date.now() + 4 * leaseMs;
      await waitFor("four lease periods to pass", () => Date.now() >= until, 10_000, 25);
      await ctx.heartbeat();
      heartbeats++;
      await waitFor("two more lease periods to pass", () => Date.now() >= until + 2 * leaseMs, 10_000, 25);
      return "done";
    });
    const { id } = await runner.enqueue("long", null);
    // the watcher claims from another queue only, so it runs nothing but its reaper
    await watcher.start({ http: false, queues: ["elsewhere"] });
    await runner.start({ http: false, minPollMs: 5 });

    const job = await waitFor("the long job to finish", async () => {
      const found = await spool.getJob(id);
      return found?.status === "completed" || found?.status === "scheduled" || found?.status === "dead" ? found : null;
    }, 20_000);
    expect(job.status).toBe("completed");
    expect(job.history.map((a) => [a.outcome, a.workerId])).toEqual([["completed", "runner"]]);
    expect(job.history[0]!.durationMs).toBeGreaterThanOrEqual(6 * leaseMs);
    expect(heartbeats).toBe(1);
  });

  it("sends a job whose expired lease was its last attempt to dead, and retries one with attempts left", async () => {
    const { spool } = await setup();
    spool.define("task", () => "ran");
    const last = await spool.enqueue("task", { last: true }, { maxAttempts: 1 });
    const more = await spool.enqueue("task", { last: false }, { maxAttempts: 2, backoff: { type: "fixed", baseMs: 0, jitter: false } });
    // a worker that claims both and then vanishes without a trace
    const claimedAt = Date.now();
    const claimed = await storeOf(spool).claimJobs({ limit: 2, types: new Map([["task", {}]]), queues: null, workerId: "ghost", token: crypto.randomUUID(), now: claimedAt, leaseMs: 200 });
    expect(claimed.map((j) => j.id)).toEqual([last.id, more.id]);

    await spool.start({ http: false, minPollMs: 5 });
    const dead = await waitFor("the last-attempt job to be dead", async () => {
      const job = await spool.getJob(last.id);
      return job?.status === "dead" ? job : null;
    });
    expect(dead.attempts).toBe(1);
    expect(dead.lastError).toContain("lease expired: worker ghost");
    expect(dead.history).toEqual([expect.objectContaining({ attempt: 1, outcome: "lease_expired", workerId: "ghost", startedAt: claimedAt })]);
    const retried = await waitFor("the other job to complete", async () => {
      const job = await spool.getJob(more.id);
      return job?.status === "completed" ? job : null;
    });
    expect(retried.history.map((a) => [a.outcome, a.workerId])).toEqual([["lease_expired", "ghost"], ["completed", spool.workerId]]);
  });
});
