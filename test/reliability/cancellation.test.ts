/**
 * Cancelling a running job: its handler is asked to stop through its signal,
 * and the job keeps its lease until the handler really ends. Until then it
 * cannot be retried or claimed again, so two runs of one job never overlap.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SpoolError } from "../../src/core/errors.ts";
import type { Job } from "../../src/core/job.ts";
import type { SpoolOptions } from "../../src/spool.ts";
import { reachStatus } from "../support/job-status.ts";
import { deferred, openSpool, waitFor } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Partial<SpoolOptions> = {}) {
  const { spool, cleanup } = await openSpool({ workerId: "cancel-worker", ...options });
  cleanups.push(cleanup);
  const reach = (id: string, status: Job["status"]) => reachStatus(spool, id, status);
  return { spool, reach };
}

describe("cancelling a running job", () => {
  it("keeps a job whose handler ignores its signal running until the handler ends: retry answers INVALID_STATE naming the attempt, and no second run overlaps", async () => {
    const { spool, reach } = await setup({ leaseMs: 600 });
    const release = deferred();
    const started = deferred();
    let running = 0;
    let mostAtOnce = 0;
    const runs: number[] = [];
    let aborted: unknown = null;
    spool.define("export", async (_payload, ctx) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      runs.push(ctx.attempt);
      try {
        if (runs.length === 1) {
          ctx.signal.addEventListener("abort", () => (aborted = ctx.signal.reason));
          started.resolve();
          await release.promise; // ignores the signal while it waits
          ctx.signal.throwIfAborted(); // and notices it only at its next checkpoint
        }
      } finally {
        running--;
      }
    });
    const { id } = await spool.enqueue("export", null, { maxAttempts: 3 });
    await spool.start({ http: false, minPollMs: 5, maxPollMs: 20 });
    await started.promise;

    expect(await spool.cancel(id)).toBe("cancelling");
    expect((aborted as SpoolError | null)?.code).toBe("CLOSED");
    const refusal = await spool.retry(id).then(() => null, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(SpoolError);
    expect((refusal as SpoolError).code).toBe("INVALID_STATE");
    expect((refusal as SpoolError).message).toContain(`job ${id}: it is running (attempt 1 on worker cancel-worker, cancellation requested)`);
    // several lease periods pass: the lease is renewed, no reaper takes it, the producer never claims it again
    await waitFor("three lease periods", async () => {
      const job = await spool.getJob(id);
      return job!.status === "running" && Date.now() - job!.startedAt! > 1800;
    });
    expect(await spool.getJob(id)).toMatchObject({ status: "running", attempts: 1, history: [] });
    expect(runs).toEqual([1]);

    release.resolve();
    const cancelled = await reach(id, "cancelled");
    expect(cancelled.history).toEqual([expect.objectContaining({ attempt: 1, outcome: "failed", error: expect.stringContaining("was cancelled") })]);

    await spool.retry(id);
    await reach(id, "completed");
    expect(runs).toEqual([1, 1]);
    expect(mostAtOnce).toBe(1);
  });

  it("ends a cancelled job whose handler never returns cancelled when its worker stops, not back in the queue", async () => {
    const { spool } = await setup();
    const started = deferred();
    spool.define("export", async () => {
      started.resolve();
      await new Promise(() => undefined);
    });
    const { id } = await spool.enqueue("export", null);
    const runtime = await spool.start({ http: false, minPollMs: 5 });
    await started.promise;
    expect(await spool.cancel(id)).toBe("cancelling");
    expect(await spool.getJob(id)).toMatchObject({ status: "running" });
    await runtime.stop({ graceMs: 0 });
    const job = await spool.getJob(id);
    expect(job).toMatchObject({ status: "cancelled", attempts: 1 });
    expect(job!.history).toEqual([expect.objectContaining({ outcome: "failed", error: expect.stringContaining("was cancelled") })]);
  });

  it("ends a cancelled job cancelled, not retried, when its worker stopped renewing the lease before the handler ended", async () => {
    const { spool, reach } = await setup({ leaseMs: 300 });
    spool.define("export", () => undefined);
    const { id } = await spool.enqueue("export", null);
    // a worker that claimed the job, was asked to cancel it, and vanished
    await storeOf(spool).claimJobs({ limit: 1, types: new Map([["export", {}]]), queues: null, workerId: "ghost", token: "t", now: Date.now(), leaseMs: 300 });
    expect(await spool.cancel(id)).toBe("cancelling");
    await spool.start({ http: false, minPollMs: 5, maxPollMs: 20 });
    const job = await reach(id, "cancelled");
    expect(job.attempts).toBe(1);
    expect(job.history).toEqual([expect.objectContaining({ outcome: "lease_expired", workerId: "ghost" })]);
  });
});
