import { afterEach, describe, expect, it } from "vitest";
import { SpoolError } from "../src/core/errors.ts";
import type { JobContext } from "../src/core/job-types.ts";
import type { EnqueueOptions } from "../src/core/options.ts";
import { createSpool, type Spool } from "../src/index.ts";
import { LONGEST_SLEEP_MS } from "../src/core/defaults.ts";
import { watchedClock } from "./support/clocks.ts";
import { deferred, openSpool, waitFor } from "./support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(options: Parameters<typeof openSpool>[0] = {}) {
  const opened = await openSpool(options);
  cleanups.push(opened.cleanup);
  return opened;
}

async function start(spool: Spool, options: Parameters<Spool["start"]>[0] = {}) {
  const runtime = await spool.start({ http: false, ...options });
  cleanups.push(() => runtime.stop({ graceMs: 0 }));
  return runtime;
}

async function countJobs(spool: Spool): Promise<number> {
  const counts = await spool.countJobs();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function spoolErrorOf(error: unknown): SpoolError {
  expect(error).toBeInstanceOf(SpoolError);
  return error as SpoolError;
}

describe("enqueue and getJob", () => {
  it("returns a string id and stores every documented field", async () => {
    const { spool } = await setup();
    const { id, deduplicated } = await spool.enqueue("send_email", { to: "a@example.com" }, { priority: 10, maxAttempts: 5, queue: "mail" });
    expect(typeof id).toBe("string");
    expect(deduplicated).toBe(false);
    const job = await spool.getJob(id);
    expect(job).toMatchObject({
      id, type: "send_email", payload: { to: "a@example.com" }, status: "pending", attempts: 0, maxAttempts: 5, priority: 10,
      queue: "mail", startedAt: null, finishedAt: null, lastError: null, idempotencyKey: null, workflowId: null, parentId: null,
    });
    expect(typeof job!.runAt).toBe("number");
    expect(typeof job!.createdAt).toBe("number");
    expect(await spool.getJob("999999")).toBeNull();
    expect(await spool.getJob("not-an-id")).toBeNull();
  });

  it("enqueueMany writes all jobs in input order and returns their ids in that order", async () => {
    const { spool } = await setup();
    await spool.enqueue("t", { before: true });
    // 2537 = statements of 100, 10 and 1 rows; keyed jobs in between split the runs
    const items = Array.from({ length: 2537 }, (_, i) => ({
      type: "t",
      payload: { i },
      options: i % 400 === 7 ? { idempotencyKey: `k${i}` } : undefined,
    }));
    const results = await spool.enqueueMany(items);
    expect(results).toHaveLength(2537);
    const ids = results.map((r) => Number(r.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(2537);
    // every id names the job made from its own input
    for (const [index, result] of results.entries()) {
      expect((await spool.getJob(result.id))!.payload).toEqual({ i: index });
    }
  });

  it("enqueueMany gives each job its own type and options, also between jobs it writes together", async () => {
    const { spool } = await setup();
    const shared = { priority: 5, queue: "shared" };
    const groups = [
      { type: "t", options: shared },
      { type: "t", options: undefined },
      { type: "u", options: undefined },
      // equal options in separate objects
      { type: "t", options: "fresh high" },
      { type: "t", options: shared },
      { type: "t", options: "fresh delayed" },
    ];
    const optionsFor = (label: unknown, i: number) =>
      label === "fresh high" ? { priority: 10 + (i % 2) } : label === "fresh delayed" ? { delayMs: 60_000, maxAttempts: 1 + (i % 3) } : label;
    const items = groups.flatMap((g, k) =>
      Array.from({ length: 9 }, (_, i) => ({ type: g.type, payload: { k, i }, options: optionsFor(g.options, i) as EnqueueOptions | undefined })),
    );
    const results = await spool.enqueueMany(items);
    for (const [index, item] of items.entries()) {
      const job = (await spool.getJob(results[index]!.id))!;
      const o = item.options ?? {};
      expect({ index, type: job.type, payload: job.payload, priority: job.priority, queue: job.queue, status: job.status, maxAttempts: job.maxAttempts }).toEqual({
        index, type: item.type, payload: item.payload, priority: o.priority ?? 0, queue: o.queue ?? "default",
        status: o.delayMs ? "scheduled" : "pending", maxAttempts: o.maxAttempts ?? 3,
      });
    }
  });

  it("rejects a bad payload with INVALID_PAYLOAD naming the path, and writes nothing", async () => {
    const { spool } = await setup();
    await spool.enqueue("t", { ok: true });
    const error = spoolErrorOf(await spool.enqueue("t", { user: { id: 1n } }).catch((e) => e));
    expect(error.code).toBe("INVALID_PAYLOAD");
    expect(error.message).toContain("payload.user.id is a BigInt");
    const many = spoolErrorOf(await spool.enqueueMany([{ type: "t", payload: 1 }, { type: "t", payload: { f: () => 1 } }]).catch((e) => e));
    expect(many.code).toBe("INVALID_PAYLOAD");
    expect(many.message).toContain("item 1");
    expect(await countJobs(spool)).toBe(1);
  });

  it("rejects oversized payloads and bad options by name", async () => {
    const { spool } = await setup({ maxPayloadBytes: 100 });
    expect(spoolErrorOf(await spool.enqueue("t", "x".repeat(200)).catch((e) => e)).message).toContain("over the limit of 100 bytes");
    expect(spoolErrorOf(await spool.enqueue("t", 1, { priority: 1.5 }).catch((e) => e)).message).toContain("priority must be an integer");
    expect(spoolErrorOf(await spool.enqueue("t", 1, { bogus: 1 } as never).catch((e) => e)).message).toContain('unknown option "bogus"');
    expect(spoolErrorOf(await spool.enqueue("", 1).catch((e) => e)).code).toBe("INVALID_OPTIONS");
    expect(await countJobs(spool)).toBe(0);
  });
});

describe("the worker", () => {
  it("runs a job with its payload and a context carrying job, attempt, signal and enqueue", async () => {
    const { spool } = await setup();
    const seen = deferred<{ payload: unknown; ctx: JobContext }>();
    spool.define("greet", (payload, ctx) => seen.resolve({ payload, ctx }));
    await start(spool);
    const { id } = await spool.enqueue("greet", { name: "Ada" });
    const { payload, ctx } = await seen.promise;
    expect(payload).toEqual({ name: "Ada" });
    expect(ctx.job).toMatchObject({ id, type: "greet", status: "running", attempts: 1 });
    expect(ctx.attempt).toBe(1);
    expect(ctx.signal).toBeInstanceOf(AbortSignal);
    expect(typeof ctx.enqueue).toBe("function");
    const done = await waitFor("completion", async () => {
      const job = await spool.getJob(id);
      return job?.status === "completed" ? job : null;
    });
    expect(done!.finishedAt).toBeGreaterThanOrEqual(done!.startedAt!);
    expect(done!.history).toEqual([expect.objectContaining({ attempt: 1, outcome: "completed", error: null })]);
  });

  it("writes jobs staged with ctx.enqueue only when the parent completes", async () => {
    const { spool } = await setup();
    spool.define("parent", (payload: { fail: boolean }, ctx) => {
      ctx.enqueue("child", { from: ctx.job.id });
      if (payload.fail) throw new Error("parent failed after staging");
    }, { maxAttempts: 1 });
    spool.define("child", () => undefined);
    await start(spool);
    const ok = await spool.enqueue("parent", { fail: false });
    const bad = await spool.enqueue("parent", { fail: true });
    await waitFor("both parents finished", async () => {
      const [a, b] = await Promise.all([spool.getJob(ok.id), spool.getJob(bad.id)]);
      return a?.status === "completed" && b?.status === "dead";
    });
    const children = [
      ...(await spool.listJobs({ status: "completed", type: "child" })).jobs,
      ...(await spool.listJobs({ status: "pending", type: "child" })).jobs,
      ...(await spool.listJobs({ status: "running", type: "child" })).jobs,
    ];
    expect(children).toHaveLength(1);
    // a plain parent's child stays plain: it is linked by parentId, not put in a workflow
    expect(children[0]).toMatchObject({ payload: { from: ok.id }, parentId: ok.id, workflowId: null });
  });

  it("leaves a job of a type this worker does not define pending, untouched, while it runs the types it does define", async () => {
    const { spool } = await setup();
    spool.define("known", () => undefined);
    await start(spool);
    const { id } = await spool.enqueue("nobody_handles_this", {}, { maxAttempts: 1 });
    const known = await spool.enqueue("known", {});
    await waitFor("the known job to complete", async () => (await spool.getJob(known.id))?.status === "completed");
    expect(await spool.getJob(id)).toMatchObject({ status: "pending", attempts: 0, history: [], lastError: null });
  });

  it("starts a job enqueued in the same process at once, without waiting for a poll", async () => {
    const clock = watchedClock();
    const { spool } = await setup({ clock });
    const started = deferred<number>();
    spool.define("quick", () => started.resolve(Date.now()));
    // polling every minute (a sleep of the 30 s cap): only the in-process wake
    // can start it within the test; no other service sleeps that long
    const idle = clock.sleptFor("the producer's idle poll", (ms) => ms === LONGEST_SLEEP_MS);
    await start(spool, { minPollMs: 60_000, maxPollMs: 60_000 });
    await idle;
    await spool.enqueue("quick", null);
    const at = await Promise.race([started.promise, new Promise((r) => setTimeout(() => r("no wake"), 10_000))]);
    expect(at).not.toBe("no wake");
  });

  it("finds jobs enqueued by another Spool on the same file by polling", async () => {
    const clock = watchedClock();
    const { spool, url } = await setup({ clock });
    const other = await createSpool({ url });
    cleanups.push(() => other.close());
    const ran = deferred<unknown>();
    spool.define("remote", (payload) => ran.resolve(payload));
    // a poll of 100 ms is the producer's alone: it has backed off all the way
    const idle = clock.sleptFor("the producer's slowest poll", (ms) => ms === 100);
    await start(spool, { minPollMs: 10, maxPollMs: 100 });
    await idle;
    await other.enqueue("remote", { from: "elsewhere" });
    expect(await ran.promise).toEqual({ from: "elsewhere" });
  });

  it("never runs more jobs at once than its concurrency", async () => {
    const { spool } = await setup();
    let running = 0;
    let peak = 0;
    spool.define("slow", async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 15));
      running--;
    });
    await spool.enqueueMany(Array.from({ length: 40 }, () => ({ type: "slow", payload: null })));
    await start(spool, { concurrency: 3 });
    await waitFor("all completed", async () => (await spool.countJobs()).completed === 40);
    expect(peak).toBe(3);
  });

  it("lets running jobs finish within the grace period when stopped", async () => {
    const { spool } = await setup();
    const started = deferred();
    const release = deferred();
    spool.define("finishes", async () => {
      started.resolve();
      await release.promise;
    });
    const runtime = await start(spool);
    const { id } = await spool.enqueue("finishes", null);
    await started.promise;
    // the job is still running when the stop begins, and finishes during its grace period
    const stopping = runtime.stop({ graceMs: 5000 });
    expect((await spool.getJob(id))!.status).toBe("running");
    release.resolve();
    await stopping;
    expect((await spool.getJob(id))!.status).toBe("completed");
  });

  it("hands a job that outlives the grace period back to the queue without spending its attempt", async () => {
    const { spool } = await setup();
    const started = deferred();
    let sawAbort = false;
    spool.define("stubborn", (_p, ctx) => {
      started.resolve();
      return new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => ((sawAbort = true), resolve())));
    });
    const runtime = await start(spool);
    const { id } = await spool.enqueue("stubborn", null);
    await started.promise;
    await runtime.stop({ graceMs: 100 });
    expect(sawAbort).toBe(true);
    expect(await spool.getJob(id)).toMatchObject({ status: "pending", attempts: 0, history: [] });
    // and it runs again when a worker starts
    spool.define("stubborn", () => undefined);
    await start(spool);
    await waitFor("rerun", async () => (await spool.getJob(id))?.status === "completed");
  });

  it("answers CLOSED once closed", async () => {
    const { spool } = await setup();
    await spool.close();
    expect(() => spool.define("x", () => 1)).toThrow(SpoolError);
    expect(spoolErrorOf(await spool.enqueue("x", 1).catch((e) => e)).code).toBe("CLOSED");
  });
});
