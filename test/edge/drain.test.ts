/**
 * spool.drain: one bounded pass of promoter, cron, reaper and due jobs, on a
 * real database file. Time moves on through a clock the test can push
 * forward (delayed jobs and cron ticks come due without waiting); budgets are
 * real time.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import { PermanentError } from "../../src/core/errors.ts";
import { newLeaseToken } from "../../src/core/lease-token.ts";
import { type Spool, createSpool } from "../../src/index.ts";
import { libsqlServer } from "../support/sqld.ts";
import { deferred, tempDatabase } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

/** The real clock, pushed forward by `skip`. */
class SkippingClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms, signal);
  }
  skip(ms: number): void {
    this.offset += ms;
  }
  /** Jumps to `at`; time goes on from there. */
  moveTo(at: number): void {
    this.offset += at - this.now();
  }
  /** Jumps to just past the start of the next minute, so a minutely schedule defined now first fires a whole minute later. */
  toMinuteStart(): void {
    this.moveTo(Math.ceil(this.now() / 60_000) * 60_000 + 100);
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(url?: string, clock = new SkippingClock()): Promise<{ spool: Spool; url: string; clock: SkippingClock }> {
  if (url === undefined) {
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    url = db.url;
  }
  const spool = await createSpool({ url, clock, leaseMs: 5_000 });
  cleanups.push(() => spool.close());
  return { spool, url, clock };
}

describe("drain", () => {
  it("promotes delayed jobs, fires a due cron tick, recovers an expired lease and runs 100 pending jobs in one call within its budget", async () => {
    const { spool, clock } = await setup();
    const ran: string[] = [];
    spool.define("work", (payload: { n: number }) => void ran.push(`work:${payload.n}`), { backoff: { type: "fixed", baseMs: 600_000, jitter: false } });
    spool.define("report", (_payload, ctx) => void ran.push(`report:${ctx.job.scheduledFor}`));
    clock.toMinuteStart();
    await spool.schedule("minutely", "* * * * *", { type: "report" });
    const [tick] = await spool.listSchedules();
    // a worker that claimed a job and died: its lease runs out while time passes
    const orphan = await spool.enqueue("work", { n: -1 });
    const [claimed] = await storeOf(spool).claimJobs({ limit: 1, types: new Map([["work", {}]]), queues: null, workerId: "gone", token: newLeaseToken(), now: clock.now(), leaseMs: 1_000 });
    expect(claimed!.id).toBe(orphan.id);
    for (let n = 0; n < 5; n++) await spool.enqueue("work", { n: 100 + n }, { delayMs: 30_000 });
    await spool.enqueueMany(Array.from({ length: 100 }, (_, n) => ({ type: "work", payload: { n } })));
    // a minute on, a second past the tick: the delayed jobs are due, the lease ran out, the next tick is far
    clock.moveTo(tick!.nextFireAt! + 1_000);

    const before = Date.now();
    const summary = await spool.drain({ budgetMs: 20_000 });
    const took = Date.now() - before;

    expect(took).toBeLessThan(20_000);
    expect(summary).toMatchObject({ ran: 106, completed: 106, failed: 0, retried: 0, remaining: 0 });
    expect(ran.filter((r) => r.startsWith("report:"))).toEqual([`report:${tick!.nextFireAt}`]);
    expect(new Set(ran.filter((r) => r.startsWith("work:"))).size).toBe(105);
    const recovered = await spool.getJob(orphan.id);
    expect(recovered).toMatchObject({ status: "scheduled", attempts: 1 });
    expect(recovered!.history.map((a) => a.outcome)).toEqual(["lease_expired"]);
    // the next thing due: the recovered job's retry or the next tick, whichever comes first
    const [schedule] = await spool.listSchedules();
    expect(summary.nextDueAt).toBe(Math.min(recovered!.runAt, schedule!.nextFireAt!));
    expect((await spool.countJobs()).completed).toBe(106);
  });

  it.each(["file", "server"] as const)("two concurrent drains on one database (%s) run each job once and fire the tick once", async (kind) => {
    const clock = new SkippingClock();
    clock.toMinuteStart();
    let url: string | undefined;
    if (kind === "server") {
      const dir = tempDatabase();
      cleanups.push(dir.cleanup);
      const server = await libsqlServer(dir.dir);
      await server.start();
      cleanups.push(() => server.kill());
      url = server.url;
    }
    const first = await setup(url, clock);
    const second = await setup(first.url, clock);
    const runs = new Map<string, number>();
    for (const { spool } of [first, second]) {
      spool.define("work", async (_payload, ctx) => {
        runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 0));
      });
      await spool.schedule("minutely", "* * * * *", { type: "work" });
    }
    await first.spool.enqueueMany(Array.from({ length: 300 }, (_, n) => ({ type: "work", payload: { n } })));
    const [tick] = await first.spool.listSchedules();
    clock.moveTo(tick!.nextFireAt! + 1_000);

    const [a, b] = await Promise.all([first.spool.drain({ budgetMs: 30_000 }), second.spool.drain({ budgetMs: 30_000 })]);

    expect(runs.size).toBe(301);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(a.ran + b.ran).toBe(301);
    expect(a.completed + b.completed).toBe(301);
    const ticks = await first.spool.listJobs({ status: "completed", limit: 500 });
    expect(ticks.jobs.filter((job) => job.scheduleName === "minutely")).toHaveLength(1);
    expect(a.remaining + b.remaining).toBe(0);
  });

  it("hands back a job whose timeout is longer than the budget, unstarted, and runs the shorter jobs behind it", async () => {
    const { spool } = await setup();
    let longStarted = 0;
    const shortRan: number[] = [];
    spool.define("long", () => void longStarted++, { timeoutMs: 60_000 });
    spool.define("short", (payload: { n: number }) => void shortRan.push(payload.n), { timeoutMs: 1_000 });
    // more long jobs than one claim takes, all ahead of the short ones
    const long = await spool.enqueueMany(Array.from({ length: 25 }, (_, n) => ({ type: "long", payload: { n }, options: { priority: 10 } })));
    await spool.enqueueMany(Array.from({ length: 5 }, (_, n) => ({ type: "short", payload: { n } })));

    const summary = await spool.drain({ budgetMs: 5_000 });

    expect(longStarted).toBe(0);
    expect(shortRan.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(summary).toMatchObject({ ran: 5, completed: 5, remaining: 25 });
    for (const { id } of long) {
      const job = await spool.getJob(id);
      expect(job).toMatchObject({ status: "pending", attempts: 0, history: [] });
    }
  });

  it("hands back a job without a timeout that is still running when handler time is over, without spending its attempt", async () => {
    const { spool } = await setup();
    const started = deferred();
    let aborted: unknown = null;
    spool.define("endless", (_payload, ctx) => {
      started.resolve();
      return new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject((aborted = ctx.signal.reason))));
    });
    const { id } = await spool.enqueue("endless", {});

    const before = Date.now();
    const summary = await spool.drain({ budgetMs: 3_000 });

    expect(Date.now() - before).toBeLessThan(3_000);
    await started.promise;
    expect((aborted as Error).message).toMatch(/interrupted/);
    expect(summary).toMatchObject({ ran: 1, completed: 0, failed: 0, retried: 0, remaining: 1 });
    expect(await spool.getJob(id)).toMatchObject({ status: "pending", attempts: 0, history: [] });
  });

  it("returns as soon as nothing is due, and says when the next job is", async () => {
    const { spool, clock } = await setup();
    spool.define("later", () => undefined);
    const runAt = clock.now() + 3_600_000;
    await spool.enqueue("later", {}, { runAt });

    const before = Date.now();
    const summary = await spool.drain({ budgetMs: 60_000 });

    expect(Date.now() - before).toBeLessThan(5_000);
    expect(summary).toEqual({ ran: 0, completed: 0, failed: 0, retried: 0, remaining: 0, nextDueAt: runAt });
  });

  it("runs chained jobs in the same pass, and stops at maxJobs with the rest counted as remaining", async () => {
    const { spool } = await setup();
    spool.define("parent", (payload: { n: number }, ctx) => ctx.enqueue("child", payload));
    spool.define("child", () => undefined);
    await spool.enqueue("parent", { n: 1 });
    expect(await spool.drain({ budgetMs: 10_000 })).toMatchObject({ ran: 2, completed: 2, remaining: 0 });

    await spool.enqueueMany(Array.from({ length: 30 }, (_, n) => ({ type: "child", payload: { n } })));
    expect(await spool.drain({ budgetMs: 10_000, maxJobs: 10 })).toMatchObject({ ran: 10, completed: 10, remaining: 20 });
    expect(await spool.drain({ budgetMs: 10_000, maxJobs: 0 })).toMatchObject({ ran: 0, remaining: 20 });
    expect(await spool.drain({ budgetMs: 10_000, queues: ["other"] })).toMatchObject({ ran: 0, remaining: 0 });
    expect(await spool.drain({ budgetMs: 10_000 })).toMatchObject({ ran: 20, remaining: 0 });
  });

  it("claims only the types defined here, and counts only those in remaining", async () => {
    const { spool } = await setup();
    spool.define("mine", () => undefined);
    const stranger = await spool.enqueue("theirs", {});
    await spool.enqueue("mine", {});
    expect(await spool.drain({ budgetMs: 10_000 })).toMatchObject({ ran: 1, completed: 1, remaining: 0 });
    expect(await spool.getJob(stranger.id)).toMatchObject({ status: "pending", attempts: 0 });
  });

  it("tallies retries, failures and timeouts as a worker writes them", async () => {
    const { spool } = await setup();
    spool.define("flaky", () => {
      throw new Error("try again");
    }, { maxAttempts: 3, backoff: { type: "fixed", baseMs: 60_000, jitter: false } });
    spool.define("broken", () => {
      throw new PermanentError("never");
    });
    spool.define("slow", () => new Promise(() => undefined), { timeoutMs: 50, maxAttempts: 1 });
    const flaky = await spool.enqueue("flaky", {});
    const slow = await spool.enqueue("slow", {});
    await spool.enqueue("broken", {});

    const summary = await spool.drain({ budgetMs: 10_000 });

    expect(summary).toMatchObject({ ran: 3, completed: 0, failed: 2, retried: 1, remaining: 0 });
    const retried = await spool.getJob(flaky.id);
    expect(retried).toMatchObject({ status: "scheduled", attempts: 1 });
    expect(summary.nextDueAt).toBe(retried!.runAt);
    expect((await spool.getJob(slow.id))!.history.map((a) => a.outcome)).toEqual(["timed_out"]);
  });

  it("honours per-type concurrency across a drain", async () => {
    const { spool } = await setup();
    let running = 0;
    let most = 0;
    spool.define(
      "limited",
      async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
      },
      { concurrency: 2 },
    );
    await spool.enqueueMany(Array.from({ length: 12 }, (_, n) => ({ type: "limited", payload: { n } })));
    expect(await spool.drain({ budgetMs: 20_000 })).toMatchObject({ ran: 12, completed: 12, remaining: 0 });
    expect(most).toBe(2);
  });

  it("ages waiting jobs in queues with an aging period before it claims", async () => {
    const { spool, clock } = await setup();
    const ran: string[] = [];
    spool.define("work", (payload: { name: string }) => void ran.push(payload.name));
    await spool.setQueueAging("mail", 1_000);
    await spool.enqueue("work", { name: "old and low" }, { queue: "mail", priority: -10 });
    clock.skip(5_000);
    await spool.enqueue("work", { name: "new and normal" }, { queue: "mail" });
    expect(await spool.drain({ budgetMs: 10_000, maxJobs: 1 })).toMatchObject({ ran: 1, remaining: 1 });
    expect(ran).toEqual(["old and low"]);
  });

  it("ends early on its signal, handing running jobs back", async () => {
    const { spool } = await setup();
    const started = deferred();
    spool.define("wait", (_payload, ctx) => {
      started.resolve();
      return new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
    });
    const { id } = await spool.enqueue("wait", {});
    const controller = new AbortController();
    const drained = spool.drain({ budgetMs: 60_000, signal: controller.signal });
    await started.promise;
    controller.abort();
    expect(await drained).toMatchObject({ ran: 1, completed: 0, remaining: 1 });
    expect(await spool.getJob(id)).toMatchObject({ status: "pending", attempts: 0 });
  });

  it("refuses bad options, naming them", async () => {
    const { spool } = await setup();
    await expect(spool.drain({ budgetMs: 0 })).rejects.toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringMatching(/budgetMs/) });
    await expect(spool.drain({} as never)).rejects.toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringMatching(/budgetMs/) });
    await expect(spool.drain({ budgetMs: 100, maxJobs: -1 })).rejects.toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringMatching(/maxJobs/) });
    await expect(spool.drain({ budgetMs: 100, queues: [] })).rejects.toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringMatching(/queues/) });
    await expect(spool.drain({ budgetMs: 100, concurrency: 0 })).rejects.toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringMatching(/concurrency/) });
  });
});

describe("drain events", () => {
  it("reports each attempt it runs to the Spool's listeners, after the outcome is written", async () => {
    const { spool } = await setup();
    spool.define("work", (payload: { n: number }) => {
      if (payload.n === 2) throw new PermanentError("no");
      return payload.n;
    });
    const seen: string[] = [];
    spool.on("started", ({ job }) => seen.push(`started:${job.id}`));
    spool.on("completed", ({ job }) => seen.push(`completed:${job.id}`));
    spool.on("failed", ({ job, willRetry }) => seen.push(`failed:${job.id}:${willRetry}`));
    spool.on("dead", ({ job }) => seen.push(`dead:${job.id}`));
    const [one, two] = await spool.enqueueMany([{ type: "work", payload: { n: 1 } }, { type: "work", payload: { n: 2 } }]);
    const summary = await spool.drain({ budgetMs: 5_000 });
    expect(summary).toMatchObject({ ran: 2, completed: 1, failed: 1 });
    // the events of a written batch follow a turn after the write
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.filter((e) => e.endsWith(one!.id))).toEqual([`started:${one!.id}`, `completed:${one!.id}`]);
    expect(seen.filter((e) => e.includes(`:${two!.id}`))).toEqual([`started:${two!.id}`, `failed:${two!.id}:false`, `dead:${two!.id}`]);
    expect((await spool.getJob(two!.id))!.status).toBe("dead");
  });
});
