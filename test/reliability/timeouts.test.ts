/**
 * Timeouts: a handler that ignores its signal and never returns is failed as
 * `timed_out` at once and follows the retry path; when it returns later, its
 * completion and the child jobs it staged are discarded.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ClaimedJob, Job } from "../../src/core/job.ts";
import { newJobRow } from "../../src/core/new-job.ts";
import type { SpoolOptions } from "../../src/spool.ts";
import { reachStatus } from "../support/job-status.ts";
import { deferred, openSpool, waitFor } from "../support/system.ts";
import { storeOf, typesOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Partial<SpoolOptions> = {}) {
  const { spool, cleanup } = await openSpool({ workerId: "timeout-worker", ...options });
  cleanups.push(cleanup);
  const start = () => spool.start({ http: false, minPollMs: 5, maxPollMs: 50 });
  const reach = (id: string, status: Job["status"]) => reachStatus(spool, id, status);
  const allJobs = async () => {
    const jobs: Job[] = [];
    for (const status of ["scheduled", "pending", "running", "completed", "dead", "cancelled"] as const) {
      jobs.push(...(await spool.listJobs({ status, limit: 500 })).jobs);
    }
    return jobs.sort((a, b) => Number(a.id) - Number(b.id));
  };
  return { spool, start, reach, allJobs };
}

describe("timeouts", () => {
  it("fails a handler that ignores its signal as timed_out at once, retries it, and discards what the late attempt does", async () => {
    const { spool, start, reach, allJobs } = await setup();
    const release = deferred();
    const aborted: unknown[] = [];
    let lateReturned = false;
    spool.define("report", async (payload: { name: string }, ctx) => {
      if (ctx.attempt === 1) {
        ctx.signal.addEventListener("abort", () => aborted.push(ctx.signal.reason));
        await release.promise; // ignores the signal entirely
        ctx.enqueue("email", { from: "attempt 1" });
        lateReturned = true;
        return "late";
      }
      ctx.enqueue("email", { from: `attempt ${ctx.attempt}` });
      return payload.name;
    }, { timeoutMs: 200, maxAttempts: 2, backoff: { type: "fixed", baseMs: 0, jitter: false } });
    spool.define("email", () => undefined);
    const { id } = await spool.enqueue("report", { name: "q3" });
    await start();

    // attempt 2 completes while attempt 1's handler is still hanging
    const done = await reach(id, "completed");
    expect(lateReturned).toBe(false);
    expect(done.attempts).toBe(2);
    expect(done.history.map((a) => a.outcome)).toEqual(["timed_out", "completed"]);
    expect(done.history[0]!.error).toBe(`job ${id} (report) timed out after 200 ms`);
    expect(done.history[0]!.durationMs).toBeGreaterThanOrEqual(200);
    expect(aborted).toHaveLength(1);
    expect(aborted[0]).toMatchObject({ code: "TIMED_OUT" });

    release.resolve();
    await waitFor("the late handler to return", () => lateReturned);
    // let the worker act on the late return if it were going to: wait for another job to pass through it
    const marker = await spool.enqueue("email", { from: "marker" });
    await reach(marker.id, "completed");
    expect(await spool.getJob(id)).toEqual(done);
    const children = (await allJobs()).filter((j) => j.type === "email" && j.id !== marker.id);
    expect(children.map((j) => [j.payload, j.parentId])).toEqual([[{ from: "attempt 2" }, id]]);
  });

  it("leaves a timed-out job with no attempts left dead when its handler returns later, and its child jobs never appear", async () => {
    const { spool, start, reach, allJobs } = await setup();
    const release = deferred();
    let lateReturned = false;
    spool.define("sync", async (_payload, ctx) => {
      await release.promise;
      ctx.enqueue("inventory", { sku: "A" });
      ctx.enqueue("inventory", { sku: "B" });
      lateReturned = true;
    }, { maxAttempts: 1 });
    spool.define("inventory", () => undefined);
    // the job's own timeout overrides the type's (none)
    const { id } = await spool.enqueue("sync", null, { timeoutMs: 150 });
    await start();

    const dead = await reach(id, "dead");
    expect(dead.lastError).toContain("timed out after 150 ms");
    expect(dead.history).toEqual([expect.objectContaining({ attempt: 1, outcome: "timed_out", workerId: "timeout-worker" })]);
    expect(dead.history[0]!.stack).toContain("SpoolError");

    release.resolve();
    await waitFor("the late handler to return", () => lateReturned);
    const marker = await spool.enqueue("inventory", { sku: "marker" });
    await reach(marker.id, "completed");
    expect(await spool.getJob(id)).toEqual(dead);
    expect((await allJobs()).map((j) => j.id)).toEqual([id, marker.id]);
  });

  it("lets a handler that honours its signal stop early, with the same timed_out outcome", async () => {
    const { spool, start, reach } = await setup();
    let sawAbort = false;
    spool.define("polite", (_p, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => {
          sawAbort = true;
          reject(new Error("stopped by signal"));
        });
      }), { timeoutMs: 100, maxAttempts: 1 });
    const { id } = await spool.enqueue("polite", null);
    await start();

    const dead = await reach(id, "dead");
    expect(sawAbort).toBe(true);
    expect(dead.history[0]!.outcome).toBe("timed_out");
  });

  it("never times out a job without a timeout", async () => {
    const { spool, start, reach } = await setup();
    const release = deferred();
    const running = deferred();
    spool.define("unbounded", async () => {
      running.resolve();
      await release.promise;
    });
    const { id } = await spool.enqueue("unbounded", null);
    await start();
    await running.promise;
    const job = (await spool.getJob(id))!;
    expect(job).toMatchObject({ status: "running", timeoutMs: null, history: [] });
    release.resolve();
    expect((await reach(id, "completed")).history.map((a) => a.outcome)).toEqual(["completed"]);
  });

  it("discards a completion written under the lease token of a timed-out attempt, with its children", async () => {
    const { spool, start, reach, allJobs } = await setup();
    let firstToken = "";
    spool.define("step", (_p, ctx) => {
      if (ctx.attempt === 1) {
        firstToken = (ctx.job as ClaimedJob).leaseToken;
        return new Promise(() => undefined);
      }
    }, { timeoutMs: 100, maxAttempts: 2, backoff: { type: "fixed", baseMs: 0, jitter: false } });
    spool.define("next", () => undefined);
    const { id } = await spool.enqueue("step", null);
    await start();
    const done = await reach(id, "completed");

    // what a late handler's completion would be, written straight to the store
    const now = Date.now();
    const child = newJobRow(typesOf(spool), "next", { late: true }, undefined, { now, maxPayloadBytes: 1024, parentId: id });
    const written = await storeOf(spool).completeJobs(
      [{ id, token: firstToken, finishedAt: now, reason: "complete", status: "completed", runAt: null, outcome: "completed", error: null, stack: null, children: [child] }],
      now,
    );
    expect(written.written.size).toBe(0);
    expect(await spool.getJob(id)).toEqual(done);
    expect((await allJobs()).map((j) => j.id)).toEqual([id]);
  });
});
