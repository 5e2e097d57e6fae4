/**
 * The queues' summary: every queue with jobs or settings, its counts by
 * status, whether it is paused and how long its oldest pending job waits.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import { finishJobs } from "../support/finished-jobs.ts";
import { openSpool } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe("listQueues", () => {
  it("lists each queue by name with its counts, pause state and oldest pending job's age", async () => {
    let now = 1_000_000;
    const clock: Clock = { now: () => now, sleep: (ms, signal) => systemClock.sleep(ms, signal) };
    const opened = await openSpool({ clock });
    cleanups.push(opened.cleanup);
    const { spool } = opened;
    expect(await spool.listQueues()).toEqual([]);

    await spool.enqueue("send", {}, { queue: "mail" });
    now += 500;
    await spool.enqueue("send", {}, { queue: "mail" });
    await spool.enqueue("send", {}, { queue: "mail", delayMs: 60_000 });
    const dead = await spool.enqueue("bill", {});
    await finishJobs(spool, [dead.id], "dead", now);
    await spool.pauseQueue("idle");
    now += 2_000;

    const zero = { blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 };
    expect(await spool.listQueues()).toEqual([
      { name: "default", paused: false, counts: { ...zero, dead: 1 }, oldestPendingAgeMs: null },
      { name: "idle", paused: true, counts: zero, oldestPendingAgeMs: null },
      { name: "mail", paused: false, counts: { ...zero, pending: 2, scheduled: 1 }, oldestPendingAgeMs: 2_500 },
    ]);
  });
});
