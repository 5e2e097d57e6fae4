/**
 * Purging finished jobs: only the status, type and age asked for, in
 * batches, and never a job of a workflow that still has unfinished jobs.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import type { BulkProgress } from "../../src/spool.ts";
import { enqueueJobs, finishJobs } from "../support/finished-jobs.ts";
import { openSpool } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const NOW = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;
const fixedClock: Clock = { now: () => NOW, sleep: (ms, signal) => systemClock.sleep(ms, signal) };

async function setup() {
  const opened = await openSpool({ clock: fixedClock });
  cleanups.push(opened.cleanup);
  return opened.spool;
}

describe("purge", () => {
  it("deletes only finished jobs of the status, type and age asked for, in batches of at most 1,000", async () => {
    const spool = await setup();
    const oldDead = await enqueueJobs(spool, 2_300, "poison");
    const newDead = await enqueueJobs(spool, 4, "poison");
    const oldDeadOther = await enqueueJobs(spool, 3, "other");
    const oldCompleted = await enqueueJobs(spool, 5, "poison");
    const pending = await enqueueJobs(spool, 2, "poison");
    await finishJobs(spool, [...oldDead, ...oldDeadOther], "dead", NOW - 2 * HOUR);
    await finishJobs(spool, newDead, "dead", NOW - HOUR / 2);
    await finishJobs(spool, oldCompleted, "completed", NOW - 2 * HOUR);

    const progress: BulkProgress[] = [];
    expect(await spool.purge({ status: "dead", type: "poison", olderThanMs: HOUR, onProgress: (p) => progress.push(p) })).toBe(2_300);

    expect(progress.map((p) => p.done)).toEqual([1_000, 2_000, 2_300]);
    expect(progress.every((p) => p.total === 2_300)).toBe(true);
    expect(await spool.getJob(oldDead[0]!)).toBeNull();
    expect(await spool.getJob(oldDead[2_299]!)).toBeNull();
    for (const id of [newDead[0]!, oldDeadOther[0]!]) expect((await spool.getJob(id))!.status).toBe("dead");
    expect((await spool.getJob(oldCompleted[0]!))!.status).toBe("completed");
    expect((await spool.getJob(pending[0]!))!.status).toBe("pending");
    expect(await spool.countJobs()).toMatchObject({ dead: 7, completed: 5, pending: 2 });

    expect(await spool.purge({ status: "dead" })).toBe(7);
    expect(await spool.purge({ status: "completed", olderThanMs: 3 * HOUR })).toBe(0);
    expect(await spool.purge({ status: "completed", olderThanMs: 0 })).toBe(5);
    expect(await spool.countJobs()).toMatchObject({ dead: 0, completed: 0, pending: 2 });
  });

  it("keeps the finished jobs of a workflow that still has an unfinished job, and deletes them once it has none", async () => {
    const spool = await setup();
    const running = await enqueueJobs(spool, 3, "step", { workflowId: "wf-running" });
    const done = await enqueueJobs(spool, 3, "step", { workflowId: "wf-done" });
    const loose = await enqueueJobs(spool, 2, "step");
    await finishJobs(spool, [running[0]!, running[1]!], "dead", NOW - HOUR);
    await finishJobs(spool, done, "dead", NOW - HOUR);
    await finishJobs(spool, loose, "dead", NOW - HOUR);

    expect(await spool.purge({ status: "dead" })).toBe(5);
    expect((await spool.getJob(running[0]!))!.status).toBe("dead");
    expect((await spool.getJob(running[1]!))!.status).toBe("dead");
    expect(await spool.getJob(done[0]!)).toBeNull();
    expect(await spool.getJob(loose[1]!)).toBeNull();

    await spool.cancel(running[2]!);
    expect(await spool.purge({ status: "dead" })).toBe(2);
    expect((await spool.getJob(running[2]!))!.status).toBe("cancelled");
    expect(await spool.purge({ status: "cancelled" })).toBe(1);
    expect(Object.values(await spool.countJobs()).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("keeps a job of an unfinished workflow that comes in a later batch than the first", async () => {
    const spool = await setup();
    const early = await enqueueJobs(spool, 1_500, "bulk");
    const flow = await enqueueJobs(spool, 2, "step", { workflowId: "wf" });
    await finishJobs(spool, [...early, flow[0]!], "dead", NOW - HOUR);

    expect(await spool.purge({ status: "dead" })).toBe(1_500);
    expect((await spool.getJob(flow[0]!))!.status).toBe("dead");
  });

  it("refuses an active status, a bad age or type and unknown options with INVALID_OPTIONS, and deletes nothing", async () => {
    const spool = await setup();
    const dead = await enqueueJobs(spool, 2);
    await finishJobs(spool, dead, "dead", NOW - HOUR);
    const cases: Array<[unknown, RegExp]> = [
      [{ status: "pending" }, /finished jobs only: status must be completed, dead or cancelled, got "pending"/],
      [{ status: "bogus" }, /got "bogus"/],
      [{}, /got undefined/],
      [{ status: "dead", olderThanMs: -1 }, /olderThanMs must be a non-negative integer/],
      [{ status: "dead", olderThanMs: "7d" }, /olderThanMs/],
      [{ status: "dead", type: "a b" }, /job type/],
      [{ status: "dead", queue: "default" }, /unknown option "queue"/],
      [null, /purge takes/],
    ];
    for (const [options, message] of cases) {
      const error = await spool.purge(options as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(options)).toMatchObject({ code: "INVALID_OPTIONS" });
      expect((error as Error).message).toMatch(message);
    }
    expect((await spool.countJobs()).dead).toBe(2);
  });
});
