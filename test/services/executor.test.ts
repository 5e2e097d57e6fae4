/**
 * The executor runs one claimed job and turns the way it ended into one
 * outcome: completed, a retry at now + backoff, dead, cancelled. Driven by
 * direct calls on jobs claimed at a time the test sets; the decision is taken
 * at the clock's now.
 */
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import { PermanentError } from "../../src/core/errors.ts";
import { silentLogger } from "../../src/core/logger.ts";
import { Executor } from "../../src/services/executor.ts";
import { storeOf, typesOf } from "../support/internals.ts";
import { servicesOnClock } from "../support/services.ts";
import { deferred } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup() {
  const services = await servicesOnClock({ leaseMs: 60_000 });
  cleanups.push(services.cleanup);
  const claim = async (type: string) => {
    const [job] = await storeOf(services.spool).claimJobs({
      limit: 1, types: new Map([[type, {}]]), queues: null, workerId: "unit-worker", token: crypto.randomUUID(), now: services.clock.t, leaseMs: 60_000,
    });
    return job!;
  };
  return { ...services, claim };
}

describe("executor", () => {
  it("completes a job whose handler returns, with its result, finished at the clock's now", async () => {
    const { spool, worker, clock, claim } = await setup();
    spool.define("add", (payload: { a: number; b: number }) => payload.a + payload.b);
    const { id } = await spool.enqueue("add", { a: 2, b: 3 });
    const job = await claim("add");
    clock.t += 250;
    const { written } = await worker.executor.run(job);
    await written;
    expect(await spool.getJob(id)).toMatchObject({ status: "completed", attempts: 1, result: 5, finishedAt: clock.t });
  });

  it("schedules a failed attempt with attempts left at now + its backoff, with outcome failed", async () => {
    const { spool, worker, clock, claim } = await setup();
    spool.define("flaky", () => {
      throw new Error("card declined");
    }, { backoff: { type: "fixed", baseMs: 4000, jitter: false } });
    const { id } = await spool.enqueue("flaky", null, { maxAttempts: 3 });
    const job = await claim("flaky");
    const { written } = await worker.executor.run(job);
    await written;
    const stored = (await spool.getJob(id))!;
    expect(stored).toMatchObject({ status: "scheduled", attempts: 1, runAt: clock.t + 4000, lastError: "card declined" });
    expect(stored.history).toEqual([expect.objectContaining({ attempt: 1, outcome: "failed", error: "card declined", finishedAt: clock.t })]);
  });

  it("sends a failure on the last attempt, or a PermanentError on the first, to dead", async () => {
    const { spool, worker, claim } = await setup();
    spool.define("last", () => {
      throw new Error("still broken");
    });
    spool.define("never", () => {
      throw new PermanentError("no such customer");
    });
    const { id: last } = await spool.enqueue("last", null, { maxAttempts: 1 });
    const { id: never } = await spool.enqueue("never", null, { maxAttempts: 5 });
    for (const type of ["last", "never"]) await (await worker.executor.run(await claim(type))).written;
    expect(await spool.getJob(last)).toMatchObject({ status: "dead", attempts: 1, lastError: "still broken" });
    expect(await spool.getJob(never)).toMatchObject({ status: "dead", attempts: 1, lastError: "no such customer" });
  });

  it("registers the attempt in the worker's RunningJobs while it runs, and a stop through it aborts the handler's signal", async () => {
    const { spool, worker, claim } = await setup();
    const started = deferred();
    spool.define("long", (_payload, ctx) => {
      started.resolve();
      return new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
    });
    const { id } = await spool.enqueue("long", null);
    const running = worker.executor.run(await claim("long"));
    await started.promise;
    expect(worker.running.ids()).toEqual([id]);
    expect(worker.stopAttempt(id, "cancelled")).toBe(true);
    await (await running).written;
    expect(worker.running.size).toBe(0);
    expect(worker.stopAttempt(id, "cancelled")).toBe(false);
    expect(await spool.getJob(id)).toMatchObject({ status: "cancelled", attempts: 1 });
  });

  it("gives a handler a context it may take apart: a detached enqueue stages the child and a detached warn records the warning", async () => {
    const { spool, worker, claim } = await setup();
    spool.define("child", () => undefined);
    spool.define("parent", (_payload, { enqueue, warn, attempt, job }) => {
      enqueue("child", { from: job.id });
      warn(`attempt ${attempt} used a fallback`);
    });
    const { id } = await spool.enqueue("parent", null);
    await (await worker.executor.run(await claim("parent"))).written;
    expect(await spool.getJob(id)).toMatchObject({ status: "completed", warnings: ["attempt 1 used a fallback"] });
    const children = await spool.listJobs({ status: "pending", type: "child" });
    expect(children.jobs.map((child) => [child.parentId, child.payload])).toEqual([[id, { from: id }]]);
  });

  it("runs a handler that returns a plain value to its outcome before start returns, and tells its owner once finished and once written", async () => {
    const { spool, worker, claim } = await setup();
    spool.define("plain", () => "done");
    const { id } = await spool.enqueue("plain", null);
    const job = await claim("plain");
    const calls: string[] = [];
    const written = deferred();
    worker.executor.start(job, (ended) => calls.push(`finished ${ended.id}`), (ended) => {
      calls.push(`written ${ended.id}`);
      written.resolve();
    });
    expect(calls).toEqual([`finished ${id}`]);
    expect(worker.completer.backlog).toBe(1);
    await written.promise;
    expect(calls).toEqual([`finished ${id}`, `written ${id}`]);
    expect(await spool.getJob(id)).toMatchObject({ status: "completed", result: "done" });
  });

  it("refuses a dependencies object without its running-jobs registry with INVALID_OPTIONS naming the field", async () => {
    const { spool, worker } = await setup();
    expect(() =>
      new Executor({ types: typesOf(spool), completer: worker.completer, clock: systemClock, logger: silentLogger, maxPayloadBytes: 1024 } as never),
    ).toThrow(expect.objectContaining({ name: "SpoolError", code: "INVALID_OPTIONS", message: "executor: running must be an object with add, stop, got undefined" }));
  });
});
