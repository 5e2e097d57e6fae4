/**
 * The producer claims no more jobs than it has free slots, each leased from
 * the pass's `now`; driven one `runOnce(now)` at a time with a clock the test
 * moves.
 */
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.ts";
import { SpoolWorker } from "../../src/services/spool-worker.ts";
import { servicesOnClock } from "../support/services.ts";
import { deferred, waitFor } from "../support/system.ts";
import { storeOf, typesOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Parameters<typeof servicesOnClock>[0] = {}) {
  const services = await servicesOnClock(options);
  cleanups.push(services.cleanup);
  return services;
}

describe("producer", () => {
  it("claims only as many jobs as it has free slots, leased from the pass's now", async () => {
    const { spool, worker, clock, lease } = await setup({ concurrency: 2, leaseMs: 1000 });
    const release = deferred();
    spool.define("hold", () => release.promise);
    const ids = (await spool.enqueueMany([1, 2, 3].map((n) => ({ type: "hold", payload: { n } })))).map((r) => r.id);
    const t0 = clock.t;

    // two slots free: two claimed, and the pass asks to run again only when woken (1 s bound)
    expect(await worker.producer.runOnce(t0)).toBe(1000);
    expect(worker.producer.inFlight).toBe(2);
    expect(await lease(ids[0]!)).toEqual({ status: "running", startedAt: t0, leaseExpiresAt: t0 + 1000, workerId: "unit-worker" });
    expect(await lease(ids[1]!)).toMatchObject({ status: "running", startedAt: t0, leaseExpiresAt: t0 + 1000 });
    expect(await lease(ids[2]!)).toEqual({ status: "pending", startedAt: null, leaseExpiresAt: null, workerId: null });

    // no slot free: a pass claims nothing
    clock.t = t0 + 10;
    expect(await worker.producer.runOnce(clock.t)).toBe(1000);
    expect((await lease(ids[2]!)).status).toBe("pending");

    // the slots free up once the handlers return; the next pass takes the third job
    release.resolve();
    await waitFor("both handlers to finish", () => worker.producer.inFlight === 0);
    await worker.completer.drain();
    clock.t = t0 + 20;
    await worker.producer.runOnce(clock.t);
    await waitFor("the third job to finish", async () => (await spool.getJob(ids[2]!))?.status === "completed");
    expect((await spool.getJob(ids[2]!))!.startedAt).toBe(t0 + 20);
    expect((await spool.countJobs()).completed).toBe(3);
  });

  it("claims nothing of a type it does not define and backs its poll off while idle", async () => {
    const { spool, worker, clock } = await setup();
    spool.define("mine", () => undefined);
    await spool.enqueue("theirs", null);
    const waits = [];
    for (let i = 0; i < 4; i++) waits.push(await worker.producer.runOnce(clock.t));
    expect(waits).toEqual([25, 50, 100, 200]);
    expect(await spool.countJobs()).toMatchObject({ pending: 1, running: 0 });
  });

  it("refuses a concurrency that is not a positive integer with INVALID_OPTIONS", async () => {
    const { spool } = await setup();
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      expect(
        () =>
          new SpoolWorker({
            store: storeOf(spool), types: typesOf(spool), clock: spool.clock, logger: silentLogger, workerId: "w", concurrency,
            queues: null, leaseMs: 1000, maxPayloadBytes: 1000, newToken: () => "t",
          }),
      ).toThrow(expect.objectContaining({ name: "SpoolError", code: "INVALID_OPTIONS", message: `concurrency must be a positive integer, got ${JSON.stringify(concurrency)}` }));
    }
  });
});
