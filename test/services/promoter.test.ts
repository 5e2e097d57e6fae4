import { afterEach, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import { SpoolError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/logger.ts";
import { Promoter } from "../../src/services/promoter.ts";
import { type Spool, createSpool } from "../../src/index.ts";
import { watchedClock } from "../support/clocks.ts";
import { tempDatabase, waitFor } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

let opened: Spool[] = [];
let folders: Array<() => void> = [];
afterEach(async () => {
  for (const spool of opened) await spool.close();
  for (const cleanup of folders) cleanup();
  opened = [];
  folders = [];
});

async function setup(options: { url?: string; clock?: Clock } = {}): Promise<{ spool: Spool; url: string }> {
  let url = options.url;
  if (url === undefined) {
    const db = tempDatabase();
    folders.push(db.cleanup);
    url = db.url;
  }
  const spool = await createSpool({ url, clock: options.clock });
  opened.push(spool);
  return { spool, url };
}

describe("delayed jobs", () => {
  it("run in order of run time, and none before its run time", async () => {
    const { spool } = await setup();
    const runs: Array<{ id: string; at: number }> = [];
    spool.define("delayed", (_payload, ctx) => {
      runs.push({ id: ctx.job.id, at: Date.now() });
    });
    await spool.start({ http: false, concurrency: 1 });
    const delays = [900, 300, 600, 100, 1200];
    const results = await spool.enqueueMany(delays.map((delayMs, i) => ({ type: "delayed", payload: { i }, options: { delayMs } })));
    for (const { id } of results) expect((await spool.getJob(id))!.status).toBe("scheduled");
    await waitFor("every delayed job to run", () => runs.length === delays.length, 10_000);

    const jobs = await Promise.all(results.map(({ id }) => spool.getJob(id)));
    const byRunAt = [...jobs].sort((a, b) => a!.runAt - b!.runAt).map((j) => j!.id);
    expect(runs.map((r) => r.id)).toEqual(byRunAt);
    for (const run of runs) {
      const job = jobs.find((j) => j!.id === run.id)!;
      expect(job.status).toBe("completed");
      expect(run.at).toBeGreaterThanOrEqual(job.runAt);
      expect(job.startedAt!).toBeGreaterThanOrEqual(job.runAt);
    }
  });

  it("a job enqueued with a 1.5 s delay while the worker sleeps is picked up within 250 ms of its time", async () => {
    const clock = watchedClock();
    const { spool } = await setup({ clock });
    let startedAt = 0;
    spool.define("later", () => {
      startedAt = Date.now();
    });
    // let the worker go idle: the producer's poll backs off to its slowest
    // (1.5 s, a sleep no other service takes), and the promoter sleeps
    const idle = clock.sleptFor("the producer's slowest poll", (ms) => ms === 1500);
    await spool.start({ http: false, maxPollMs: 1500 });
    await idle;
    const { id } = await spool.enqueue("later", null, { delayMs: 1500 });
    const { runAt } = (await spool.getJob(id))!;
    await waitFor("the delayed job to start", () => startedAt > 0, 5000);
    expect(startedAt).toBeGreaterThanOrEqual(runAt);
    expect(startedAt - runAt).toBeLessThan(250);
  });

  it("a job delayed by another Spool on the same file is found by the promoter's bounded sleep", async () => {
    const clock = watchedClock();
    const { spool: worker, url } = await setup({ clock });
    const { spool: producer } = await setup({ url });
    let startedAt = 0;
    worker.define("later", () => {
      startedAt = Date.now();
    });
    const idle = clock.sleptFor("the producer's slowest poll", (ms) => ms === 1500);
    await worker.start({ http: false, maxPollMs: 1500 });
    await idle;
    const { id } = await producer.enqueue("later", null, { delayMs: 700 });
    const { runAt } = (await producer.getJob(id))!;
    await waitFor("the delayed job to start", () => startedAt > 0, 5000);
    expect(startedAt).toBeGreaterThanOrEqual(runAt);
    // promoter sleeps at most 200 ms, then wakes the producer at once
    expect(startedAt - runAt).toBeLessThan(400);
  });

  it("rejects an unparseable runAt, a negative delay, or both options, with INVALID_OPTIONS and writes nothing", async () => {
    const { spool } = await setup();
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ runAt: "tomorrow" }, 'runAt must be a Date, an ISO-8601 string or epoch milliseconds, got "tomorrow"'],
      [{ runAt: "2025-13-45T00:00:00Z" }, "runAt must be a Date"],
      [{ runAt: new Date("not a date") }, "runAt must be a Date"],
      [{ runAt: Number.NaN }, "runAt must be a Date"],
      [{ delayMs: -1 }, "delayMs must be a non-negative number of milliseconds, got -1"],
      [{ delayMs: "1000" }, "delayMs must be a non-negative number"],
      [{ delayMs: Number.POSITIVE_INFINITY }, "delayMs must be a non-negative number"],
      [{ delayMs: 10, runAt: new Date() }, "give delayMs or runAt, not both"],
    ];
    for (const [options, message] of bad) {
      const error = await spool.enqueue("x", null, options as never).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(SpoolError);
      expect((error as SpoolError).code).toBe("INVALID_OPTIONS");
      expect((error as SpoolError).message).toContain(message);
    }
    expect(await spool.countJobs()).toEqual({ blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 });
  });

  it("treats a runAt in the past as now: the job is pending at once", async () => {
    const { spool } = await setup();
    const before = Date.now();
    for (const runAt of [new Date(before - 60_000), new Date(before - 1000).toISOString(), before - 5]) {
      const { id } = await spool.enqueue("x", null, { runAt });
      const job = (await spool.getJob(id))!;
      expect(job.status).toBe("pending");
      expect(job.runAt).toBeGreaterThanOrEqual(before);
    }
    expect((await spool.countJobs()).scheduled).toBe(0);
  });
});

describe("Promoter.runOnce", () => {
  it("promotes a scheduled job exactly at its run time and sleeps until then, at most maxSleepMs", async () => {
    let t = Date.UTC(2025, 0, 1);
    const clock: Clock = { now: () => t, sleep: (ms, signal) => systemClock.sleep(Math.min(ms, 5), signal) };
    const { spool } = await setup({ clock });
    let promotedCalls = 0;
    const promoter = new Promoter({ store: storeOf(spool), clock, logger: silentLogger, onPromoted: () => promotedCalls++ });
    const start = t;
    const { id: soon } = await spool.enqueue("x", null, { delayMs: 150 });
    const { id: later } = await spool.enqueue("x", null, { delayMs: 5000 });

    t = start + 149;
    expect(await promoter.runOnce(t)).toBe(1);
    expect((await spool.getJob(soon))!.status).toBe("scheduled");
    expect(promotedCalls).toBe(0);

    t = start + 150;
    expect(await promoter.runOnce(t)).toBe(200);
    expect((await spool.getJob(soon))!.status).toBe("pending");
    expect((await spool.getJob(later))!.status).toBe("scheduled");
    expect(promotedCalls).toBe(1);

    t = start + 4900;
    expect(await promoter.runOnce(t)).toBe(100);
    t = start + 5000;
    await promoter.runOnce(t);
    expect((await spool.getJob(later))!.status).toBe("pending");
    expect(await promoter.runOnce(t)).toBe(200);
  });

  it("is woken by notifyScheduled instead of sleeping out a long wait", async () => {
    const { spool } = await setup();
    let promoted = 0;
    const clock = watchedClock();
    const promoter = new Promoter({ store: storeOf(spool), clock, logger: silentLogger, onPromoted: () => promoted++, maxSleepMs: 30_000 });
    // the first pass finds nothing and starts its 30 s sleep
    const asleep = clock.sleptFor("the promoter's 30 s sleep", (ms) => ms === 30_000);
    promoter.start();
    await asleep;
    const { id } = await spool.enqueue("x", null, { delayMs: 300 });
    const { runAt } = (await spool.getJob(id))!;
    promoter.notifyScheduled(runAt);
    await waitFor("the job to be promoted", async () => (await spool.getJob(id))!.status === "pending", 5000, 5);
    expect(Date.now()).toBeGreaterThanOrEqual(runAt);
    expect(Date.now() - runAt).toBeLessThan(1000);
    expect(promoted).toBe(1);
    await promoter.stop();
  });
});
