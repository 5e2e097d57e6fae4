/**
 * The reaper takes back a job whose lease ran out at the pass's `now`, never
 * before; driven one `runOnce(now)` at a time with a clock the test moves.
 */
import { afterEach, describe, expect, it } from "vitest";
import { servicesOnClock } from "../support/services.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup() {
  const services = await servicesOnClock({ leaseMs: 1000 });
  cleanups.push(services.cleanup);
  return services;
}

/** Claims every pending job of `type` for a worker that then goes away. */
async function claimForCrashedWorker(services: Awaited<ReturnType<typeof setup>>, type: string) {
  const { spool, clock } = services;
  return storeOf(spool).claimJobs({
    limit: 10, types: new Map([[type, {}]]), queues: null, workerId: "crashed", token: crypto.randomUUID(), now: clock.t, leaseMs: 1000,
  });
}

describe("reaper", () => {
  it("leaves a lease alone until it expires, then schedules a retry with outcome lease_expired", async () => {
    const services = await setup();
    const { spool, worker, clock, lease } = services;
    spool.define("gone", () => undefined, { backoff: { type: "fixed", baseMs: 5000, jitter: false } });
    const { id } = await spool.enqueue("gone", null, { maxAttempts: 3 });
    const t0 = clock.t;
    expect(await claimForCrashedWorker(services, "gone")).toHaveLength(1);

    await worker.reaper.runOnce(t0 + 999);
    expect(await lease(id)).toEqual({ status: "running", startedAt: t0, leaseExpiresAt: t0 + 1000, workerId: "crashed" });

    await worker.reaper.runOnce(t0 + 1000);
    const job = (await spool.getJob(id))!;
    expect(job).toMatchObject({ status: "scheduled", attempts: 1, runAt: t0 + 1000 + 5000 });
    expect(job.history).toEqual([expect.objectContaining({ attempt: 1, outcome: "lease_expired", finishedAt: t0 + 1000 })]);
    expect(job.history[0]!.error).toContain("worker crashed stopped renewing it");
  });

  it("sends a job whose last attempt's lease expired to dead, and touches no other job", async () => {
    const services = await setup();
    const { spool, worker, clock } = services;
    spool.define("last", () => undefined);
    const { id } = await spool.enqueue("last", null, { maxAttempts: 1 });
    const { id: bystander } = await spool.enqueue("other", { keep: true });
    const before = await spool.getJob(bystander);
    expect(await claimForCrashedWorker(services, "last")).toHaveLength(1);

    clock.t += 1000;
    await worker.reaper.runOnce(clock.t);
    expect(await spool.getJob(id)).toMatchObject({ status: "dead", attempts: 1, finishedAt: clock.t });
    expect(await spool.getJob(bystander)).toEqual(before);
  });
});
