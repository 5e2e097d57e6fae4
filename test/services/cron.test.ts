import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import type { Job } from "../../src/core/job.ts";
import { silentLogger } from "../../src/core/logger.ts";
import type { ScheduleOptions } from "../../src/core/schedule.ts";
import { JOB_STATUSES } from "../../src/core/states.ts";
import { Cron } from "../../src/services/cron.ts";
import { type Spool, createSpool } from "../../src/index.ts";
import { SetClock } from "../support/clocks.ts";
import { tempDatabase, waitFor } from "../support/system.ts";
import { storeOf, typesOf } from "../support/internals.ts";

const utc = (iso: string) => Date.parse(iso);
const minute = (m: number, s = 0) => Date.UTC(2025, 0, 1, 0, m, s);

interface Scheduler {
  spool: Spool;
  cron: Cron;
  clock: SetClock;
  /** Sets the clock to `at` and runs one scheduler pass; returns its wait. */
  pass(at: number): Promise<number>;
}

let opened: Spool[] = [];
let folders: Array<() => void> = [];

afterEach(async () => {
  for (const spool of opened) await spool.close();
  for (const cleanup of folders) cleanup();
  opened = [];
  folders = [];
});

/** A fresh database file, or `url` for one more scheduler on the same file. */
async function setup(start: number, url?: string, clock = new SetClock(start)): Promise<Scheduler & { url: string }> {
  if (url === undefined) {
    const db = tempDatabase();
    folders.push(db.cleanup);
    url = db.url;
  }
  const spool = await createSpool({ url, clock });
  opened.push(spool);
  const cron = new Cron({ store: storeOf(spool), types: typesOf(spool), clock, logger: silentLogger, maxPayloadBytes: spool.maxPayloadBytes });
  return {
    spool,
    cron,
    clock,
    url,
    pass: (at) => {
      clock.t = at;
      return cron.runOnce(at);
    },
  };
}

/** Every job the schedule enqueued, in fire-time order. */
async function jobsOf(spool: Spool, schedule: string): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const status of JOB_STATUSES) {
    let cursor: string | undefined;
    do {
      const page = await spool.listJobs({ status, limit: 500, cursor });
      jobs.push(...page.jobs.filter((j) => j.scheduleName === schedule));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return jobs.sort((a, b) => a.scheduledFor! - b.scheduledFor!);
}

const ticksOf = async (spool: Spool, schedule: string) => (await jobsOf(spool, schedule)).map((j) => j.scheduledFor);

async function stored(spool: Spool, name: string) {
  return (await spool.listSchedules()).find((s) => s.name === name)!;
}

describe("Cron.runOnce", () => {
  it("enqueues one pending job per tick, carrying its fire time, and nothing before the tick", async () => {
    const { spool, pass } = await setup(minute(0, 30));
    await spool.schedule("report", "* * * * *", { type: "report", payload: { kind: "hourly" }, queue: "reports", priority: 10 });
    expect(await stored(spool, "report")).toMatchObject({ lastFireAt: null, nextFireAt: minute(1), paused: false, catchUp: "latest" });

    expect(await pass(minute(1) - 1)).toBe(1);
    expect(await jobsOf(spool, "report")).toEqual([]);

    expect(await pass(minute(1))).toBe(5000);
    const [job, ...rest] = await jobsOf(spool, "report");
    expect(rest).toEqual([]);
    expect(job).toMatchObject({
      type: "report",
      payload: { kind: "hourly" },
      status: "pending",
      queue: "reports",
      priority: 10,
      scheduleName: "report",
      scheduledFor: minute(1),
      runAt: minute(1),
    });
    expect(await stored(spool, "report")).toMatchObject({ lastFireAt: minute(1), nextFireAt: minute(2) });

    await pass(minute(1, 40));
    expect(await ticksOf(spool, "report")).toEqual([minute(1)]);
    await pass(minute(2, 1));
    expect(await ticksOf(spool, "report")).toEqual([minute(1), minute(2)]);
  });

  const policies: Array<[ScheduleOptions["catchUp"], number[]]> = [
    ["latest", [minute(1), minute(5), minute(6)]],
    ["none", [minute(1), minute(6)]],
    ["all", [minute(1), minute(2), minute(3), minute(4), minute(5), minute(6)]],
  ];
  for (const [catchUp, expected] of policies) {
    it(`after a worker was down across several ticks and restarted, catch-up "${catchUp}" enqueues ${expected.length - 2} missed ticks`, async () => {
      const first = await setup(minute(0, 30));
      const options: ScheduleOptions = { type: "report", catchUp };
      await first.spool.schedule("report", "* * * * *", options);
      await first.pass(minute(1));
      await first.spool.close();

      // the worker comes back 4.5 minutes later and defines its schedules again, as src/worker.ts does
      const second = await setup(minute(5, 30), first.url);
      await second.spool.schedule("report", "* * * * *", options);
      expect((await stored(second.spool, "report")).nextFireAt).toBe(minute(2));
      await second.pass(minute(5, 30));
      expect(await stored(second.spool, "report")).toMatchObject({ nextFireAt: minute(6) });
      await second.pass(minute(5, 59));
      await second.pass(minute(6));
      expect(await ticksOf(second.spool, "report")).toEqual(expected);
    });
  }

  it('bounds catch-up "all" at the hundred most recent ticks', async () => {
    const first = await setup(minute(0, 0));
    await first.spool.schedule("pulse", "* * * * * *", { type: "pulse", catchUp: "all" });
    await first.pass(minute(0, 1));
    expect(await ticksOf(first.spool, "pulse")).toEqual([minute(0, 1)]);

    await first.pass(minute(0, 1) + 250_000);
    const ticks = await ticksOf(first.spool, "pulse");
    expect(ticks).toHaveLength(101);
    expect(ticks[1]).toBe(minute(0, 1) + 151_000);
    expect(ticks[100]).toBe(minute(0, 1) + 250_000);
    expect(new Set(ticks).size).toBe(101);
  });

  it("with noOverlap skips ticks while the previous run is pending or running, and fires again once it finished", async () => {
    const { spool, pass } = await setup(minute(0, 30));
    await spool.schedule("sync", "* * * * *", { type: "sync", noOverlap: true });
    await spool.schedule("free", "* * * * *", { type: "free" });

    await pass(minute(1));
    const [first] = await jobsOf(spool, "sync");
    expect(first!.status).toBe("pending");

    await pass(minute(2));
    expect(await ticksOf(spool, "sync")).toEqual([minute(1)]);
    expect(await stored(spool, "sync")).toMatchObject({ lastFireAt: minute(1), nextFireAt: minute(3) });

    const claimed = await storeOf(spool).claimJobs({ limit: 10, types: new Map([["sync", {}]]), queues: null, workerId: "w", token: "t1", now: minute(2, 5), leaseMs: 600_000 });
    expect(claimed.map((j) => j.id)).toContain(first!.id);
    await pass(minute(3));
    expect(await ticksOf(spool, "sync")).toEqual([minute(1)]);

    await storeOf(spool).completeJobs(
      [{ id: first!.id, token: "t1", finishedAt: minute(3, 10), reason: "complete", status: "completed", runAt: null, outcome: "completed", error: null, stack: null }],
      minute(3, 10),
    );
    await pass(minute(4));
    expect(await ticksOf(spool, "sync")).toEqual([minute(1), minute(4)]);
    // the schedule without noOverlap was never held back
    expect(await ticksOf(spool, "free")).toEqual([minute(1), minute(2), minute(3), minute(4)]);
  });

  it("pauses and resumes across two Spools on one file, without catching up the paused ticks", async () => {
    const clock = new SetClock(minute(0, 30));
    const worker = await setup(minute(0, 30), undefined, clock);
    const operator = await setup(minute(0, 30), worker.url, clock);
    await worker.spool.schedule("report", "* * * * *", { type: "report", catchUp: "all" });
    await worker.pass(minute(1));

    await operator.spool.pauseSchedule("report");
    expect((await stored(worker.spool, "report")).paused).toBe(true);
    await worker.pass(minute(2));
    await worker.pass(minute(3));
    expect(await ticksOf(worker.spool, "report")).toEqual([minute(1)]);

    clock.t = minute(3, 30);
    await operator.spool.resumeSchedule("report");
    expect(await stored(worker.spool, "report")).toMatchObject({ paused: false, nextFireAt: minute(4) });
    await worker.pass(minute(3, 30));
    await worker.pass(minute(4));
    expect(await ticksOf(worker.spool, "report")).toEqual([minute(1), minute(4)]);

    // redefining at a restart keeps an operator's pause
    await operator.spool.pauseSchedule("report");
    await worker.spool.schedule("report", "* * * * *", { type: "report", catchUp: "all" });
    expect((await stored(operator.spool, "report")).paused).toBe(true);

    await expect(operator.spool.pauseSchedule("nope")).rejects.toMatchObject({ code: "SCHEDULE_NOT_FOUND", message: 'no schedule is named "nope"' });
    await expect(operator.spool.resumeSchedule("nope")).rejects.toMatchObject({ code: "SCHEDULE_NOT_FOUND" });
  });

  it("fires a daily 02:30 Europe/Berlin schedule at the right instants across the March DST change", async () => {
    const { spool, pass } = await setup(utc("2025-03-28T12:00:00Z"));
    await spool.schedule("nightly", "30 2 * * *", { type: "nightly", timezone: "Europe/Berlin" });
    const fired: number[] = [];
    for (let day = 0; day < 4; day++) {
      const next = (await stored(spool, "nightly")).nextFireAt!;
      await pass(next - 1);
      expect(await ticksOf(spool, "nightly")).toEqual(fired);
      await pass(next);
      fired.push(next);
      expect(await ticksOf(spool, "nightly")).toEqual(fired);
    }
    expect(fired.map((t) => new Date(t).toISOString())).toEqual([
      "2025-03-29T01:30:00.000Z", // 02:30 CET (UTC+1)
      "2025-03-30T01:00:00.000Z", // 02:30 does not exist that night: 02:00 jumps to 03:00 CEST, and it runs then
      "2025-03-31T00:30:00.000Z", // 02:30 CEST (UTC+2)
      "2025-04-01T00:30:00.000Z",
    ]);
  });

  it("fires a daily 02:30 Europe/Berlin schedule once on the October night when 02:30 happens twice", async () => {
    const { spool, pass } = await setup(utc("2025-10-24T12:00:00Z"));
    await spool.schedule("nightly", "30 2 * * *", { type: "nightly", timezone: "Europe/Berlin", catchUp: "all" });
    await pass(utc("2025-10-25T00:30:00Z")); // 02:30 CEST
    await pass(utc("2025-10-26T00:30:00Z")); // the first 02:30, still CEST
    await pass(utc("2025-10-26T01:30:00Z")); // 02:30 again, now CET: not a second run
    await pass(utc("2025-10-27T01:30:00Z")); // 02:30 CET
    expect((await ticksOf(spool, "nightly")).map((t) => new Date(t!).toISOString())).toEqual([
      "2025-10-25T00:30:00.000Z",
      "2025-10-26T00:30:00.000Z",
      "2025-10-27T01:30:00.000Z",
    ]);
  });

  it("enqueues each tick once when two schedulers pass at the same instant", async () => {
    const clock = new SetClock(minute(0, 30));
    const a = await setup(minute(0, 30), undefined, clock);
    const b = await setup(minute(0, 30), a.url, clock);
    const options: ScheduleOptions = { type: "report", catchUp: "all" };
    await a.spool.schedule("report", "* * * * *", options);
    await b.spool.schedule("report", "* * * * *", options);
    await Promise.all([a.pass(minute(1)), b.pass(minute(1))]);
    await Promise.all([a.pass(minute(5, 30)), b.pass(minute(5, 30))]);
    expect(await ticksOf(a.spool, "report")).toEqual([minute(1), minute(2), minute(3), minute(4), minute(5)]);
  });

  it("cannot enqueue a tick twice even from a scheduler whose clock runs behind and who recreated the schedule", async () => {
    const ahead = await setup(minute(0, 30));
    await ahead.spool.schedule("report", "* * * * *", { type: "report" });
    await ahead.pass(minute(1, 0));
    expect(await ticksOf(ahead.spool, "report")).toEqual([minute(1)]);

    // a second process, two seconds behind, removes and recreates the schedule: its next tick is 00:01 again
    const behind = await setup(minute(0, 58), ahead.url);
    await behind.spool.unschedule("report");
    await behind.spool.schedule("report", "* * * * *", { type: "report" });
    expect((await stored(behind.spool, "report")).nextFireAt).toBe(minute(1));
    await behind.pass(minute(1, 0));
    // the unique (schedule, fire time) key dropped the second insert; the schedule still moved on
    expect(await ticksOf(behind.spool, "report")).toEqual([minute(1)]);
    expect(await stored(behind.spool, "report")).toMatchObject({ lastFireAt: minute(1), nextFireAt: minute(2) });
  });

  it("starts a redefined expression at its own next tick, without catching up the old one", async () => {
    const first = await setup(minute(0, 30));
    await first.spool.schedule("report", "* * * * *", { type: "report", catchUp: "all" });
    await first.pass(minute(1));
    await first.spool.close();
    const second = await setup(minute(5, 30), first.url);
    await second.spool.schedule("report", "*/10 * * * *", { type: "report", catchUp: "all" });
    expect((await stored(second.spool, "report")).nextFireAt).toBe(minute(10));
    await second.pass(minute(5, 30));
    await second.pass(minute(10));
    expect(await ticksOf(second.spool, "report")).toEqual([minute(1), minute(10)]);
  });

  it("stops firing after unschedule and keeps the jobs already enqueued", async () => {
    const { spool, pass } = await setup(minute(0, 30));
    await spool.schedule("report", "* * * * *", { type: "report" });
    await pass(minute(1));
    expect(await spool.unschedule("report")).toBe(true);
    expect(await spool.unschedule("report")).toBe(false);
    await pass(minute(2));
    expect(await spool.listSchedules()).toEqual([]);
    expect(await ticksOf(spool, "report")).toEqual([minute(1)]);
  });

  it("sleeps until the next tick but never longer than maxSleepMs, which is at most 30 s", async () => {
    const { spool, clock } = await setup(minute(0, 30));
    expect(() => new Cron({ store: storeOf(spool), types: typesOf(spool), clock, logger: silentLogger, maxPayloadBytes: 1000, maxSleepMs: 60_000 })).toThrow(
      expect.objectContaining({ name: "SpoolError", code: "INVALID_OPTIONS", message: "maxSleepMs must be an integer from 1 to 30000, got 60000" }),
    );
    expect(() => new Cron({ store: storeOf(spool), types: typesOf(spool), clock, logger: silentLogger, maxPayloadBytes: 1000, maxSleepMs: 0.5 })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS", message: "maxSleepMs must be an integer from 1 to 30000, got 0.5" }),
    );
    const cron = new Cron({ store: storeOf(spool), types: typesOf(spool), clock, logger: silentLogger, maxPayloadBytes: 1000, maxSleepMs: 30_000 });
    expect(await cron.runOnce(clock.now())).toBe(30_000);
    await spool.schedule("hourly", "@hourly", { type: "report" });
    expect(await cron.runOnce(clock.now())).toBe(30_000);
    await spool.schedule("soon", "*/10 * * * * *", { type: "report" });
    clock.t = minute(0, 38) + 500;
    expect(await cron.runOnce(clock.now())).toBe(1500);
  });
});

describe("Cron in a started worker", () => {
  it("runs each tick's job with ctx.job.scheduledFor set to its fire time, never before it", async () => {
    const db = tempDatabase();
    folders.push(db.cleanup);
    const spool = await createSpool({ url: db.url });
    opened.push(spool);
    const runs: Array<{ scheduledFor: number | null; startedAt: number }> = [];
    spool.define("pulse", (_payload, ctx) => {
      runs.push({ scheduledFor: ctx.job.scheduledFor, startedAt: Date.now() });
    });
    const runtime = await spool.start({ http: false });
    await spool.schedule("pulse", "* * * * * *", { type: "pulse" });
    await waitFor("two ticks to run", () => runs.length >= 2, 10_000);
    await runtime.stop();
    await runtime.stop();
    for (const run of runs) {
      expect(run.scheduledFor! % 1000).toBe(0);
      expect(run.startedAt).toBeGreaterThanOrEqual(run.scheduledFor!);
    }
    expect(new Set(runs.map((r) => r.scheduledFor)).size).toBe(runs.length);
    const jobs = await jobsOf(spool, "pulse");
    expect(jobs.filter((j) => j.status === "completed").map((j) => j.scheduledFor)).toEqual(runs.map((r) => r.scheduledFor));
  });

  it("starts and stops idempotently", async () => {
    const db = tempDatabase();
    folders.push(db.cleanup);
    const spool = await createSpool({ url: db.url });
    opened.push(spool);
    const cron = new Cron({ store: storeOf(spool), types: typesOf(spool), clock: systemClock, logger: silentLogger, maxPayloadBytes: 1000, maxSleepMs: 50 });
    cron.start();
    cron.start();
    await spool.schedule("pulse", "* * * * * *", { type: "pulse" });
    cron.wake();
    await waitFor("a tick to be enqueued", async () => (await jobsOf(spool, "pulse")).length >= 1, 10_000);
    await Promise.all([cron.stop(), cron.stop()]);
    await cron.stop();
    const count = (await jobsOf(spool, "pulse")).length;
    // stopped: no more ticks even after the next one is due
    await new Promise((r) => setTimeout(r, 1100));
    expect((await jobsOf(spool, "pulse")).length).toBe(count);
  });
});
