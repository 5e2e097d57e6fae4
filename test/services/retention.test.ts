/**
 * Retention: the reaper deletes completed jobs older than the retention
 * period, in statements of at most 1,000 rows, while a worker goes on
 * processing; dead, cancelled, young and unfinished-workflow jobs stay.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import { PermanentError } from "../../src/core/errors.ts";
import { createJsonLogger } from "../../src/core/logger.ts";
import { Completer } from "../../src/services/completer.ts";
import { DEFAULT_RETENTION_MS, Reaper } from "../../src/services/reaper.ts";
import { createSpool } from "../../src/index.ts";
import type { Spool } from "../../src/spool.ts";
import { deferred, tempDatabase } from "../support/system.ts";
import { storeOf, typesOf } from "../support/internals.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const DAY = 24 * 60 * 60 * 1000;
const shifted = (offsetMs: number): Clock => ({ now: () => Date.now() + offsetMs, sleep: systemClock.sleep });

async function open(url: string, clock: Clock = systemClock, retentionMs?: number): Promise<Spool> {
  const spool = await createSpool({ url, clock, retentionMs });
  cleanups.push(() => spool.close());
  return spool;
}

/** Runs `count` jobs of `type` to an end (completed or dead) through `spool`'s worker. */
async function process(spool: Spool, count: number): Promise<void> {
  let left = count;
  const done = deferred();
  const end = () => --left === 0 && done.resolve();
  spool.on("completed", end);
  spool.on("dead", end);
  const worker = await spool.start({ concurrency: 10, minPollMs: 5, maxPollMs: 20 });
  await done.promise;
  await worker.stop();
  spool.off("completed", end);
  spool.off("dead", end);
}

function reaperOf(spool: Spool, retentionMs = DEFAULT_RETENTION_MS): Reaper {
  const logger = createJsonLogger("silent");
  return new Reaper({
    store: storeOf(spool),
    completer: new Completer({ store: storeOf(spool), clock: systemClock, logger }),
    types: typesOf(spool),
    clock: systemClock,
    logger,
    leaseMs: 30_000,
    retentionMs,
  });
}

describe("retention", () => {
  it("deletes only completed jobs older than the retention period, in statements of at most 1,000 rows, while a worker keeps processing", async () => {
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    // eight days ago: 2,500 jobs complete, one dies, one is cancelled, and one workflow stays unfinished
    const past = await open(db.url, shifted(-8 * DAY));
    past.define("old", () => undefined);
    past.define("doomed", () => {
      throw new PermanentError("no");
    });
    await past.enqueueMany(Array.from({ length: 2500 }, (_, i) => ({ type: "old", payload: { i } })));
    await past.enqueue("old", { step: 1 }, { workflowId: "wf-open" });
    await past.enqueue("old", { step: 1 }, { workflowId: "wf-done" });
    await past.enqueue("doomed", {});
    await process(past, 2503);
    const { id: cancelledId } = await past.enqueue("old", {}, { delayMs: DAY });
    await past.cancel(cancelledId);
    const { id: openStep } = await past.enqueue("old", { step: 2 }, { workflowId: "wf-open", delayMs: 30 * DAY });

    // now: a worker (whose own reaper keeps everything) processes fresh jobs while retention runs
    const spool = await open(db.url, systemClock, 0);
    let fresh = 0;
    const allFresh = deferred();
    spool.define("old", () => {
      if (++fresh === 2000) allFresh.resolve();
    });
    await spool.enqueueMany(Array.from({ length: 2000 }, (_, i) => ({ type: "old", payload: { fresh: i } })));
    const worker = await spool.start({ concurrency: 10, minPollMs: 5, maxPollMs: 20 });
    const batches = await reaperOf(spool).retainOnce(Date.now());
    await allFresh.promise;
    await worker.stop();

    expect(batches.every((n) => n <= 1000), String(batches)).toBe(true);
    expect(batches.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(2501);
    const counts = await spool.countJobs();
    // left: the fresh 2,000, the old step of the unfinished workflow, the dead and the cancelled job, the open workflow's next step
    expect(counts).toEqual({ blocked: 0, scheduled: 1, pending: 0, running: 0, completed: 2001, dead: 1, cancelled: 1 });
    const completed = (await spool.listJobs({ status: "completed", limit: 500 })).jobs;
    expect(completed[0]).toMatchObject({ workflowId: "wf-open", payload: { step: 1 } });
    expect(await spool.getJob(openStep)).toMatchObject({ status: "scheduled" });
    expect(await spool.getJob(cancelledId)).toMatchObject({ status: "cancelled" });
    // the counts kept for /stats follow the deletions
    expect((await spool.stats()).counts).toEqual(counts);
  });

  it("keeps everything with retention 0, and deletes nothing younger than the period", async () => {
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    const past = await open(db.url, shifted(-2 * DAY));
    past.define("t", () => undefined);
    await past.enqueueMany(Array.from({ length: 20 }, () => ({ type: "t", payload: {} })));
    await process(past, 20);
    const spool = await open(db.url);
    expect(await reaperOf(spool, 0).retainOnce(Date.now())).toEqual([]);
    expect(await reaperOf(spool, 3 * DAY).retainOnce(Date.now())).toEqual([]);
    expect((await spool.countJobs()).completed).toBe(20);
    expect(await reaperOf(spool, DAY).retainOnce(Date.now())).toEqual([20]);
    expect((await spool.countJobs()).completed).toBe(0);
  });

  it("refuses a negative retention with INVALID_CONFIG", async () => {
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    await expect(createSpool({ url: db.url, retentionMs: -1 })).rejects.toMatchObject({ code: "INVALID_CONFIG", message: expect.stringMatching(/retentionMs/) });
  });
});
