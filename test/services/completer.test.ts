/**
 * The completer writes queued outcomes in batches, lease-guarded, and lends
 * them to a claim so both commit together. Its own flush loop is held at its
 * sleeps, so each write here is one `runOnce(now)` or one claim the test
 * makes, unless the test lets the loop's turns pass (`aTurn`).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/clock.ts";
import type { ClaimedJob } from "../../src/core/job.ts";
import { silentLogger } from "../../src/core/logger.ts";
import { complete, retryLater } from "../../src/core/transitions.ts";
import { Completer } from "../../src/services/completer.ts";
import type { Spool } from "../../src/spool.ts";
import { storeOf } from "../support/internals.ts";
import { openSpool } from "../support/system.ts";

const T0 = Date.UTC(2030, 0, 1);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Time stands at `t`; every sleep waits until the test calls `release()`. */
function heldClock(): Clock & { t: number; release: () => void } {
  const waiting = new Set<() => void>();
  return {
    t: T0,
    now() {
      return this.t;
    },
    sleep: (_ms, signal) =>
      new Promise<void>((resolve) => {
        waiting.add(resolve);
        signal?.addEventListener("abort", () => resolve());
      }),
    release() {
      for (const resolve of waiting) resolve();
      waiting.clear();
    },
  };
}

/** Releases the held sleeps, a turn at a time, until the completer's flush loop has ended. */
async function drained(completer: Completer, clock: ReturnType<typeof heldClock>): Promise<void> {
  let done = false;
  const draining = completer.drain().then(() => (done = true));
  while (!done) await aTurn(clock);
  await draining;
}

/** Ends the sleeps waiting now, then lets what they resume run. */
async function aTurn(clock: ReturnType<typeof heldClock>): Promise<void> {
  clock.release();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A completer on a fresh Spool's store; the size of each batch it writes on its own (`completeJobs`) goes into `ownWrites`. */
async function setup(maxBatch?: number) {
  const clock = heldClock();
  const { spool, cleanup } = await openSpool({ clock });
  const store = storeOf(spool);
  const ownWrites: number[] = [];
  const completeJobs = store.completeJobs.bind(store);
  store.completeJobs = (outcomes, now) => (ownWrites.push(outcomes.length), completeJobs(outcomes, now));
  const completer = new Completer({ store, clock, logger: silentLogger, maxBatch });
  cleanups.push(cleanup, () => drained(completer, clock));
  return { spool, clock, completer, ownWrites };
}

async function claim(spool: Spool, type: string, limit: number, now = T0): Promise<ClaimedJob[]> {
  return storeOf(spool).claimJobs({ limit, types: new Map([[type, {}]]), queues: null, workerId: "w", token: crypto.randomUUID(), now, leaseMs: 60_000 });
}

describe("completer", () => {
  it("writes every queued outcome in one runOnce, and tells each submitter whether its lease still held", async () => {
    const { spool, clock, completer } = await setup();
    const { id: kept } = await spool.enqueue("task", { n: 1 });
    const { id: lost } = await spool.enqueue("task", { n: 2 });
    const jobs = await claim(spool, "task", 2);
    // another worker took the second job over: its lease token is not ours any more
    await storeOf(spool).db.execute({ sql: "UPDATE spool_jobs SET lease_token = 'theirs' WHERE id = ?", args: [Number(lost)] });
    clock.t += 100;
    const results = jobs.map((job) => completer.submit(complete(job, clock.t)));
    expect(completer.backlog).toBe(2);

    expect(await completer.runOnce(clock.t)).toBe(2);
    expect(await Promise.all(results)).toEqual(jobs.map((job) => job.id === kept));
    expect(completer.backlog).toBe(0);
    expect(await spool.getJob(kept)).toMatchObject({ status: "completed", finishedAt: T0 + 100 });
    expect(await spool.getJob(lost)).toMatchObject({ status: "running" });
  });

  it("writes a completion alike in a batch of completions only and in a batch with a failure: finished, unleased, its key held for the window", async () => {
    const { spool, clock, completer } = await setup();
    spool.define("task", () => undefined, { idempotencyWindowMs: 10_000 });
    for (const key of ["alone", "mixed", "failing"]) await spool.enqueue("task", { key }, { idempotencyKey: key, maxAttempts: 3 });
    const [alone, mixed, failing] = await claim(spool, "task", 3);
    clock.t += 100;
    const first = completer.submit(complete(alone!, clock.t));
    expect(await completer.runOnce(clock.t)).toBe(1);
    const second = [
      completer.submit(complete(mixed!, clock.t)),
      completer.submit(retryLater(failing!, clock.t, clock.t + 5_000, { message: "card declined", stack: null, outcome: "failed" })),
    ];
    expect(await completer.runOnce(clock.t)).toBe(2);
    expect(await Promise.all([first, ...second])).toEqual([true, true, true]);
    const rows = await storeOf(spool).db.execute(
      "SELECT json_extract(payload, '$.key') AS key, status, attempts, finished_at, lease_expires_at, idempotency_until, last_error, json_array_length(history) AS failures FROM spool_jobs ORDER BY id",
    );
    const finished = { status: "completed", attempts: 1, finished_at: T0 + 100, lease_expires_at: null, idempotency_until: T0 + 10_100, last_error: null, failures: 0 };
    expect(rows.rows.map((row) => ({ ...row }))).toEqual([
      { key: "alone", ...finished },
      { key: "mixed", ...finished },
      { key: "failing", status: "scheduled", attempts: 1, finished_at: null, lease_expires_at: null, idempotency_until: null, last_error: "card declined", failures: 1 },
    ]);
  });

  it("writes at most maxBatch outcomes per pass, oldest first", async () => {
    const { spool, completer } = await setup(2);
    for (let i = 0; i < 3; i++) await spool.enqueue("task", { i });
    const jobs = await claim(spool, "task", 3);
    for (const job of jobs) void completer.submit(complete(job, T0));
    expect(await completer.runOnce(T0)).toBe(2);
    expect(completer.backlog).toBe(1);
    expect((await spool.getJob(jobs[2]!.id))!.status).toBe("running");
    expect(await completer.runOnce(T0)).toBe(1);
    expect((await spool.getJob(jobs[2]!.id))!.status).toBe("completed");
  });

  it("lends the queued outcomes to a claim, which writes them in the same transaction", async () => {
    const { spool, completer } = await setup();
    const { id: done } = await spool.enqueue("first", null);
    const [job] = await claim(spool, "first", 1);
    const { id: next } = await spool.enqueue("second", null);
    const written = completer.submit(complete(job!, T0));
    const request = { limit: 1, types: new Map([["second", {}]]), queues: null, workerId: "w", token: "t2", now: T0, leaseMs: 60_000 };
    const lent: number[] = [];
    const result = await completer.withPendingOutcomes((outcomes) => {
      lent.push(outcomes.length);
      return storeOf(spool).completeAndClaim(outcomes, request, T0);
    });
    expect(lent).toEqual([1]);
    expect(result.jobs.map((j) => j.id)).toEqual([next]);
    expect(await written).toBe(true);
    expect(completer.backlog).toBe(0);
    expect((await spool.getJob(done))!.status).toBe("completed");
  });

  it("leaves queued outcomes for a claim that comes within two turns of the event loop, and writes them itself only after two turns without one", async () => {
    const { spool, clock, completer, ownWrites } = await setup();
    const store = storeOf(spool);
    await spool.enqueueMany([{ type: "task", payload: null }, { type: "task", payload: null }]);
    const [first, second] = await claim(spool, "task", 2);
    const carried = completer.submit(complete(first!, T0));
    await aTurn(clock);
    const request = { limit: 1, types: new Map([["task", {}]]), queues: null, workerId: "w", token: "t2", now: T0, leaseMs: 60_000 };
    const lent: number[] = [];
    await completer.withPendingOutcomes((outcomes) => (lent.push(outcomes.length), store.completeAndClaim(outcomes, request, T0)));
    expect(await carried).toBe(true);
    // queued after that claim: the flush loop counts its two turns again
    const alone = completer.submit(complete(second!, T0));
    await aTurn(clock);
    await aTurn(clock);
    expect(ownWrites).toEqual([]);
    await aTurn(clock);
    expect(await alone).toBe(true);
    expect(lent).toEqual([1]);
    expect(ownWrites).toEqual([1]);
    expect((await spool.getJob(second!.id))!.status).toBe("completed");
  });

  it("puts lent outcomes back when the claim's write fails, for the next pass to write", async () => {
    const { spool, completer } = await setup();
    const { id } = await spool.enqueue("task", null);
    const [job] = await claim(spool, "task", 1);
    const written = completer.submit(complete(job!, T0));
    await expect(completer.withPendingOutcomes(() => Promise.reject(new Error("database is down")))).rejects.toThrow("database is down");
    expect(completer.backlog).toBe(1);
    expect(await completer.runOnce(T0)).toBe(1);
    expect(await written).toBe(true);
    expect((await spool.getJob(id))!.status).toBe("completed");
  });

  it("writes outcomes itself after a claim that took them failed while its flush loop waited on that claim", async () => {
    const { spool, clock, completer } = await setup();
    const { id } = await spool.enqueue("task", null);
    const [job] = await claim(spool, "task", 1);
    const written = completer.submit(complete(job!, T0));
    let failClaim!: (error: Error) => void;
    const claiming = completer.withPendingOutcomes(() => new Promise<never>((_resolve, reject) => (failClaim = reject)));
    // the flush loop's two turns pass while the claim is under way
    await aTurn(clock);
    await aTurn(clock);
    failClaim(new Error("server connection reset"));
    await expect(claiming).rejects.toThrow("server connection reset");
    expect(completer.backlog).toBe(1);
    await drained(completer, clock);
    expect(await written).toBe(true);
    expect((await spool.getJob(id))!.status).toBe("completed");
  });

  it("refuses a store without completeJobs with INVALID_OPTIONS naming the field and the missing method", () => {
    expect(() => new Completer({ store: {} as never, clock: heldClock(), logger: silentLogger })).toThrow(
      expect.objectContaining({ name: "SpoolError", code: "INVALID_OPTIONS", message: "completer: store must be an object with completeJobs, got an object without completeJobs" }),
    );
  });

  it("gives queued outcomes up on abandon(): their submitters learn nothing was written", async () => {
    const { spool, completer } = await setup();
    const { id } = await spool.enqueue("task", null);
    const [job] = await claim(spool, "task", 1);
    const written = completer.submit(complete(job!, T0));
    completer.abandon();
    expect(await written).toBe(false);
    expect(await completer.runOnce(T0)).toBe(0);
    expect((await spool.getJob(id))!.status).toBe("running");
  });
});
