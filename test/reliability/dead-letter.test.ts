/**
 * The dead-letter queue and operator actions: replay, bulk replay, cancel,
 * paging, and the same over HTTP (in-process `app.fetch`).
 */
import { afterEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../src/index.ts";
import type { Job } from "../../src/core/job.ts";
import { createHandler } from "../../src/http/handler.ts";
import type { Spool, SpoolOptions } from "../../src/index.ts";
import { reachStatus } from "../support/job-status.ts";
import { deferred, openSpool } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Partial<SpoolOptions> = {}) {
  const { spool, url, cleanup } = await openSpool({ workerId: "dlq-worker", ...options });
  cleanups.push(cleanup);
  const start = () => spool.start({ http: false, minPollMs: 5, maxPollMs: 50 });
  const reach = (id: string, status: Job["status"], on: Spool = spool) => reachStatus(on, id, status);
  const app = createHandler(spool);
  const http = async (method: string, path: string) => {
    const response = await app.fetch(new Request(`http://spool.test${path}`, { method }));
    return { status: response.status, body: (await response.json()) as any };
  };
  return { spool, url, start, reach, http };
}

/** Defines `poison` (always PermanentError) and `ok`, and makes `n` dead poison jobs. */
async function deadJobs(spool: Spool, reach: (id: string, s: Job["status"]) => Promise<Job>, n: number, type = "poison") {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await spool.enqueue(type, { i })).id);
  for (const id of ids) await reach(id, "dead");
  return ids;
}

describe("dead-letter queue", () => {
  it("replays a dead job to pending with a fresh attempt count, and it runs again", async () => {
    const { spool, start, reach } = await setup();
    let healed = false;
    spool.define("poison", () => {
      if (!healed) throw new PermanentError("bad data");
      return "ok";
    });
    await start();
    const [id] = await deadJobs(spool, reach, 1);
    const dead = (await spool.getJob(id!))!;
    expect(dead).toMatchObject({ status: "dead", attempts: 1, lastError: "bad data" });

    healed = true;
    await spool.retry(id!);
    const job = await reach(id!, "completed");
    expect(job.attempts).toBe(1);
    expect(job.history.map((a) => a.outcome)).toEqual(["failed", "completed"]);
    expect(job.history[0]).toEqual(dead.history[0]);
  });

  it("replays a cancelled job, and refuses to replay a job in any other state", async () => {
    const { spool, start, reach } = await setup();
    spool.define("ok", () => "done");
    const cancelled = await spool.enqueue("ok", null, { delayMs: 60_000 });
    await spool.cancel(cancelled.id);
    await spool.retry(cancelled.id);
    expect(await spool.getJob(cancelled.id)).toMatchObject({ status: "pending", attempts: 0, finishedAt: null });

    const pending = await spool.enqueue("ok", { keep: true }, { delayMs: 60_000 });
    await expect(spool.retry(pending.id)).rejects.toMatchObject({ code: "INVALID_STATE", message: expect.stringContaining("scheduled") });
    await expect(spool.retry("424242")).rejects.toMatchObject({ code: "JOB_NOT_FOUND" });
    await expect(spool.retry("not-an-id")).rejects.toMatchObject({ code: "JOB_NOT_FOUND" });
    await start();
    const done = await reach(cancelled.id, "completed");
    await expect(spool.retry(done.id)).rejects.toMatchObject({ code: "INVALID_STATE" });
    expect(await spool.getJob(pending.id)).toMatchObject({ status: "scheduled", attempts: 0, payload: { keep: true } });
  });

  it("replays every dead job of one type in bulk, returns how many, and leaves other types dead", async () => {
    const { spool, start, reach } = await setup();
    const fixed = new Set<string>();
    spool.define("poison", (_p, ctx) => {
      if (!fixed.has("poison")) throw new PermanentError(`poison ${ctx.job.id}`);
    });
    spool.define("toxic", () => {
      throw new PermanentError("toxic");
    });
    await start();
    const poison = await deadJobs(spool, reach, 4, "poison");
    const toxic = await deadJobs(spool, reach, 2, "toxic");
    const toxicBefore = await Promise.all(toxic.map((id) => spool.getJob(id)));

    fixed.add("poison");
    expect(await spool.retryDead({ type: "poison" })).toBe(4);
    for (const id of poison) expect((await reach(id, "completed")).history.map((a) => a.outcome)).toEqual(["failed", "completed"]);
    expect(await Promise.all(toxic.map((id) => spool.getJob(id)))).toEqual(toxicBefore);
    expect(await spool.retryDead({ type: "poison" })).toBe(0);

    expect(await spool.retryDead()).toBe(2);
    for (const id of toxic) await reach(id, "dead");
    await expect(spool.retryDead({ type: "no spaces allowed" })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });

  it("pages through dead jobs by status and type, oldest first", async () => {
    const { spool, start, reach } = await setup();
    spool.define("poison", () => {
      throw new PermanentError("no");
    });
    spool.define("toxic", () => {
      throw new PermanentError("no");
    });
    spool.define("ok", () => "fine");
    await start();
    const poison = await deadJobs(spool, reach, 7, "poison");
    const toxic = await deadJobs(spool, reach, 2, "toxic");
    await reach((await spool.enqueue("ok", null)).id, "completed");

    const seen: string[] = [];
    let cursor: string | undefined;
    const pageSizes: number[] = [];
    do {
      const page = await spool.listJobs({ status: "dead", type: "poison", limit: 3, cursor });
      pageSizes.push(page.jobs.length);
      seen.push(...page.jobs.map((j) => j.id));
      expect(page.jobs.every((j) => j.status === "dead" && j.type === "poison")).toBe(true);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(poison);

    const all = await spool.listJobs({ status: "dead" });
    expect(all.jobs.map((j) => j.id)).toEqual([...poison, ...toxic]);
    expect(all.nextCursor).toBeNull();
    expect(all.jobs[0]!.history).toHaveLength(1);
    expect((await spool.listJobs({ status: "completed" })).jobs).toHaveLength(1);
    // listJobs checks its query before it returns a promise, so call it inside an async function
    const list = async (query: Parameters<Spool["listJobs"]>[0]) => spool.listJobs(query);
    await expect(list({ status: "gone" as never })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(list({ status: "dead", limit: 0 })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(list({ status: "dead", cursor: "abc" })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });
});

describe("cancel", () => {
  it("cancels scheduled and pending jobs at once and refuses finished ones", async () => {
    const { spool } = await setup();
    spool.define("ok", () => "done");
    const scheduled = await spool.enqueue("ok", null, { delayMs: 60_000 });
    const pending = await spool.enqueue("ok", null);
    const untouched = await spool.enqueue("ok", { stay: 1 });

    expect(await spool.cancel(scheduled.id)).toBe("cancelled");
    expect(await spool.cancel(pending.id)).toBe("cancelled");
    for (const id of [scheduled.id, pending.id]) {
      const job = (await spool.getJob(id))!;
      expect(job.status).toBe("cancelled");
      expect(job.finishedAt).not.toBeNull();
      expect(job.history).toEqual([]);
    }
    await expect(spool.cancel(scheduled.id)).rejects.toMatchObject({ code: "INVALID_STATE", message: expect.stringContaining("cancelled") });
    await expect(spool.cancel("999999")).rejects.toMatchObject({ code: "JOB_NOT_FOUND" });
    expect(await spool.getJob(untouched.id)).toMatchObject({ status: "pending", finishedAt: null, payload: { stay: 1 } });
  });

  it("asks a running job to stop through its signal and ends it cancelled", async () => {
    const { spool, start, reach } = await setup();
    const running = deferred();
    const reasons: unknown[] = [];
    spool.define("long", (_p, ctx) => {
      running.resolve();
      // ends as soon as its signal fires, as a fetch given the signal would
      // (a handler that ignores it keeps the job running: cancellation.test.ts)
      return new Promise((_resolve, reject) =>
        ctx.signal.addEventListener("abort", () => {
          reasons.push(ctx.signal.reason);
          reject(ctx.signal.reason);
        }),
      );
    }, { maxAttempts: 3 });
    const { id } = await spool.enqueue("long", null);
    await start();
    await running.promise;

    expect(await spool.cancel(id)).toBe("cancelling");
    const job = await reach(id, "cancelled");
    expect(job.attempts).toBe(1);
    expect(job.finishedAt).not.toBeNull();
    expect(job.history).toHaveLength(1);
    expect(job.history[0]!.error).toContain("was cancelled");
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ name: "SpoolError" });
  });

  it("stops a job running in another Spool when its lease is next renewed", async () => {
    const { spool: worker, url, start, reach } = await setup({ leaseMs: 600 });
    const running = deferred();
    let aborted = false;
    worker.define("long", async (_p, ctx) => {
      running.resolve();
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
      aborted = true;
      throw ctx.signal.reason;
    });
    const { id } = await worker.enqueue("long", null);
    await start();
    await running.promise;

    const { createSpool } = await import("../../src/index.ts");
    const operator = await createSpool({ url });
    cleanups.push(() => operator.close());
    expect(await operator.cancel(id)).toBe("cancelling");
    const job = await reach(id, "cancelled", operator);
    expect(aborted).toBe(true);
    expect(job.attempts).toBe(1);
  });
});

describe("HTTP", () => {
  it("lists dead jobs by type in pages", async () => {
    const { spool, start, reach, http } = await setup();
    spool.define("poison", () => {
      throw new PermanentError("no");
    });
    spool.define("toxic", () => {
      throw new PermanentError("no");
    });
    await start();
    const poison = await deadJobs(spool, reach, 3, "poison");
    await deadJobs(spool, reach, 1, "toxic");

    const first = await http("GET", "/jobs?status=dead&type=poison&limit=2");
    expect(first.status).toBe(200);
    expect(first.body.jobs.map((j: Job) => j.id)).toEqual(poison.slice(0, 2));
    expect(first.body.jobs[0].lastError).toBe("no");
    const second = await http("GET", `/jobs?status=dead&type=poison&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.jobs.map((j: Job) => j.id)).toEqual(poison.slice(2));
    expect(second.body.nextCursor).toBeNull();
    expect((await http("GET", "/jobs?status=dead")).body.jobs).toHaveLength(4);
    expect((await http("GET", "/jobs?status=buried")).status).toBe(400);
    expect((await http("GET", "/jobs?status=dead&limit=9999")).status).toBe(400);
  });

  it("shows a job with its attempt history", async () => {
    const { spool, start, reach, http } = await setup();
    spool.define("poison", () => {
      throw new PermanentError("no");
    });
    await start();
    const [id] = await deadJobs(spool, reach, 1);
    const response = await http("GET", `/jobs/${id}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id, status: "dead", lastError: "no" });
    expect(response.body.history).toEqual([expect.objectContaining({ attempt: 1, outcome: "failed", error: "no", workerId: "dlq-worker" })]);
    expect((await http("GET", "/jobs/31337")).status).toBe(404);
  });

  it("retries a dead job, answering 404 for an unknown job and 409 for one that is not dead or cancelled", async () => {
    const { spool, start, reach, http } = await setup();
    let healed = false;
    spool.define("poison", () => {
      if (!healed) throw new PermanentError("no");
    });
    await start();
    const [id] = await deadJobs(spool, reach, 1);
    const waiting = await spool.enqueue("poison", null, { delayMs: 60_000 });

    const unknown = await http("POST", "/jobs/777777/retry");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("JOB_NOT_FOUND");
    const conflict = await http("POST", `/jobs/${waiting.id}/retry`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe("INVALID_STATE");
    expect(await spool.getJob(waiting.id)).toMatchObject({ status: "scheduled", attempts: 0 });

    healed = true;
    const retried = await http("POST", `/jobs/${id}/retry`);
    expect(retried).toEqual({ status: 200, body: { id, status: "pending" } });
    await reach(id!, "completed");
    expect((await http("POST", `/jobs/${id}/retry`)).status).toBe(409);
  });

  it("cancels a waiting job, answering 404 for an unknown job and 409 for a finished one", async () => {
    const { spool, http } = await setup();
    spool.define("ok", () => undefined);
    const waiting = await spool.enqueue("ok", null, { delayMs: 60_000 });

    expect(await http("POST", `/jobs/${waiting.id}/cancel`)).toEqual({ status: 200, body: { id: waiting.id, status: "cancelled" } });
    const again = await http("POST", `/jobs/${waiting.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("INVALID_STATE");
    expect((await http("POST", "/jobs/123456/cancel")).status).toBe(404);
    expect((await http("POST", "/jobs/abc/cancel")).status).toBe(404);
    expect(await spool.getJob(waiting.id)).toMatchObject({ status: "cancelled", attempts: 0 });
  });
});
