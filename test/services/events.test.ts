/**
 * Events: once per committed transition, in order, after the commit; a
 * throwing listener changes nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import { PermanentError } from "../../src/core/errors.ts";
import { createJsonLogger } from "../../src/core/logger.ts";
import { newLeaseToken } from "../../src/core/lease-token.ts";
import { Completer } from "../../src/services/completer.ts";
import { Reaper } from "../../src/services/reaper.ts";
import type { Spool } from "../../src/spool.ts";
import { deferred, openSpool, waitFor } from "../support/system.ts";
import { storeOf, typesOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(options: Parameters<typeof openSpool>[0] = {}) {
  const opened = await openSpool(options);
  cleanups.push(opened.cleanup);
  const log: string[] = [];
  const spool = opened.spool;
  for (const event of ["enqueued", "started", "completed", "failed", "dead", "cancelled", "lease_expired"] as const) {
    spool.on(event, (e: { job: { id: string } }) => log.push(`${e.job.id}:${event}`));
  }
  return { spool, log };
}

async function run(spool: Spool) {
  const worker = await spool.start({ concurrency: 2, minPollMs: 5, maxPollMs: 20 });
  cleanups.push(() => worker.stop({ graceMs: 0 }));
  return worker;
}

describe("events", () => {
  it("fire once per transition in order: enqueued, started, completed", async () => {
    const { spool, log } = await setup();
    const seen = deferred<string>();
    // a listener runs after the commit: a read it starts sees the new state
    spool.on("completed", ({ job }) => void spool.getJob(job.id).then((read) => seen.resolve(read!.status)));
    spool.define("ok", () => undefined);
    const { id } = await spool.enqueue("ok", {});
    await run(spool);
    expect(await seen.promise).toBe("completed");
    expect(log).toEqual([`${id}:enqueued`, `${id}:started`, `${id}:completed`]);
  });

  it("fire failed with willRetry for each failed attempt, then dead after the last", async () => {
    const { spool, log } = await setup();
    const failures: Array<{ willRetry: boolean; message: string; retryAt: number | null }> = [];
    spool.on("failed", ({ error, willRetry, retryAt }) => failures.push({ willRetry, message: error.message, retryAt }));
    const dead = deferred<string>();
    spool.on("dead", ({ job }) => dead.resolve(job.status));
    spool.define("flaky", () => {
      throw new Error("boom");
    }, { maxAttempts: 2, backoff: { type: "fixed", baseMs: 1, jitter: false } });
    const { id } = await spool.enqueue("flaky", {});
    await run(spool);
    expect(await dead.promise).toBe("dead");
    expect(log).toEqual([`${id}:enqueued`, `${id}:started`, `${id}:failed`, `${id}:started`, `${id}:failed`, `${id}:dead`]);
    expect(failures.map((f) => [f.willRetry, f.message])).toEqual([[true, "boom"], [false, "boom"]]);
    expect(failures[0]!.retryAt).toEqual(expect.any(Number));
    expect(failures[1]!.retryAt).toBeNull();
    expect((await spool.getJob(id))!.status).toBe("dead");
  });

  it("fire dead at once for a permanent error, and cancelled for a waiting job an operator cancels", async () => {
    const { spool, log } = await setup();
    spool.define("never", () => {
      throw new PermanentError("no");
    }, { maxAttempts: 5 });
    const { id: waiting } = await spool.enqueue("never", {}, { delayMs: 60_000 });
    expect(await spool.cancel(waiting)).toBe("cancelled");
    await waitFor("the cancelled event", () => log.includes(`${waiting}:cancelled`));
    const dead = deferred();
    spool.on("dead", () => dead.resolve());
    const { id } = await spool.enqueue("never", {});
    await run(spool);
    await dead.promise;
    expect(log).toEqual([`${waiting}:enqueued`, `${waiting}:cancelled`, `${id}:enqueued`, `${id}:started`, `${id}:failed`, `${id}:dead`]);
  });

  it("fire nothing for a deduplicated enqueue", async () => {
    const { spool, log } = await setup();
    const first = await spool.enqueue("x", {}, { idempotencyKey: "k" });
    const second = await spool.enqueue("x", {}, { idempotencyKey: "k" });
    expect(second).toEqual({ id: first.id, deduplicated: true });
    expect(log).toEqual([`${first.id}:enqueued`]);
  });

  it("fire lease_expired, failed and dead when the reaper recovers a lease with no attempts left", async () => {
    const { spool, log } = await setup();
    const { id } = await spool.enqueue("held", {}, { maxAttempts: 1 });
    const now = Date.now();
    const [claimed] = await storeOf(spool).claimJobs({ limit: 1, types: new Map([["held", {}]]), queues: null, workerId: "gone", token: newLeaseToken(), now, leaseMs: 100 });
    expect(claimed!.id).toBe(id);
    const logger = createJsonLogger("silent");
    const completer = new Completer({ store: storeOf(spool), clock: systemClock, logger });
    const reaper = new Reaper({ store: storeOf(spool), completer, types: typesOf(spool), clock: systemClock, logger, leaseMs: 100, events: spool.events, retentionMs: 0 });
    await reaper.runOnce(now + 1000);
    expect(log).toEqual([`${id}:enqueued`, `${id}:lease_expired`, `${id}:failed`, `${id}:dead`]);
    expect((await spool.getJob(id))!.status).toBe("dead");
    // a second pass finds nothing and fires nothing
    await reaper.runOnce(now + 2000);
    expect(log).toHaveLength(4);
  });

  it("log a throwing listener and change nothing: the job completes and later listeners still run", async () => {
    const lines: string[] = [];
    const { spool, log } = await setup({ logger: createJsonLogger("error", (line) => lines.push(line)) });
    spool.on("started", () => {
      throw new Error("listener broke");
    });
    spool.on("completed", async () => {
      throw new Error("async listener broke");
    });
    const after = deferred();
    spool.on("completed", () => after.resolve());
    spool.define("ok", () => undefined);
    const { id } = await spool.enqueue("ok", {});
    await run(spool);
    await after.promise;
    await waitFor("both listener errors logged", () => lines.filter((l) => l.includes("event listener threw")).length === 2);
    expect((await spool.getJob(id))!.status).toBe("completed");
    expect(log).toEqual([`${id}:enqueued`, `${id}:started`, `${id}:completed`]);
    expect(lines.some((l) => l.includes("listener broke") && l.includes('"event":"started"'))).toBe(true);
  });

  it("stop calling a listener removed with off, and refuse an unknown event", async () => {
    const { spool } = await setup();
    const calls: string[] = [];
    const listener = ({ job }: { job: { id: string } }) => calls.push(job.id);
    spool.on("enqueued", listener);
    const { id } = await spool.enqueue("x", {});
    spool.off("enqueued", listener);
    await spool.enqueue("x", {});
    expect(calls).toEqual([id]);
    expect(() => spool.on("finished" as never, () => undefined)).toThrow(/event must be one of enqueued, started/);
    expect(() => spool.on("completed", "nope" as never)).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
  });
});
