/**
 * Bulk replay of the dead-letter queue: batches of at most 1,000 jobs,
 * filters by type and queue, progress, and jobs that die again meanwhile.
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

async function setup(clock?: Clock) {
  const opened = await openSpool(clock ? { clock } : {});
  cleanups.push(opened.cleanup);
  return opened.spool;
}

describe("retryDead", () => {
  it("replays every dead job in batches of at most 1,000, reporting progress after each, and leaves other jobs alone", async () => {
    const spool = await setup();
    const dead = await enqueueJobs(spool, 2_500, "poison");
    const completed = await enqueueJobs(spool, 3, "ok");
    const pending = await enqueueJobs(spool, 2, "ok");
    await finishJobs(spool, dead, "dead", 1_000);
    await finishJobs(spool, completed, "completed", 1_000);

    const progress: BulkProgress[] = [];
    expect(await spool.retryDead({ onProgress: (p) => progress.push(p) })).toBe(2_500);

    expect(progress.map((p) => p.done)).toEqual([1_000, 2_000, 2_500]);
    expect(progress.every((p) => p.total === 2_500)).toBe(true);
    expect(await spool.countJobs()).toMatchObject({ pending: 2_502, completed: 3, dead: 0 });
    const replayed = (await spool.getJob(dead[1_700]!))!;
    expect(replayed).toMatchObject({ status: "pending", attempts: 0, finishedAt: null });
    expect((await spool.getJob(completed[0]!))!.status).toBe("completed");
    expect((await spool.getJob(pending[0]!))!.status).toBe("pending");
  });

  it("replays only the dead jobs of the queue, and of the type, it is given", async () => {
    const spool = await setup();
    const mail = await enqueueJobs(spool, 1_200, "send", { queue: "mail" });
    const mailOther = await enqueueJobs(spool, 5, "other", { queue: "mail" });
    const elsewhere = await enqueueJobs(spool, 7, "send");
    await finishJobs(spool, "all", "dead", 1_000);

    expect(await spool.retryDead({ queue: "mail", type: "send" })).toBe(1_200);
    expect((await spool.getJob(mailOther[0]!))!.status).toBe("dead");
    expect((await spool.getJob(elsewhere[0]!))!.status).toBe("dead");
    expect((await spool.getJob(mail[1_199]!))!.status).toBe("pending");

    expect(await spool.retryDead({ queue: "mail" })).toBe(5);
    expect((await spool.getJob(elsewhere[6]!))!.status).toBe("dead");
    expect(await spool.retryDead({ queue: "nobody" })).toBe(0);
    expect(await spool.retryDead()).toBe(7);
    expect((await spool.countJobs()).dead).toBe(0);
  });

  it("does not replay again a job that died again while the pass was running", async () => {
    // the pass yields through the clock between batches: kill a replayed job there
    let between: (() => Promise<void>) | null = null;
    const clock: Clock = {
      now: systemClock.now,
      sleep: async (ms, signal) => {
        const step = between;
        between = null;
        await step?.();
        await systemClock.sleep(ms, signal);
      },
    };
    const spool = await setup(clock);
    const dead = await enqueueJobs(spool, 2_100, "poison");
    await finishJobs(spool, dead, "dead", 1_000);
    between = () => finishJobs(spool, [dead[10]!], "dead", 2_000, "again");

    expect(await spool.retryDead()).toBe(2_100);

    expect(await spool.getJob(dead[10]!)).toMatchObject({ status: "dead", lastError: "again" });
    expect((await spool.countJobs()).dead).toBe(1);
  });

  it("refuses an unknown option, a bad type or queue and a progress listener that is not a function", async () => {
    const spool = await setup();
    const dead = await enqueueJobs(spool, 2);
    await finishJobs(spool, dead, "dead", 1_000);
    for (const bad of [{ status: "dead" }, { type: "no spaces" }, { queue: "" }, { onProgress: 5 }]) {
      await expect(spool.retryDead(bad as never), JSON.stringify(bad)).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    }
    expect((await spool.countJobs()).dead).toBe(2);
  });
});
