/**
 * Idempotency keys: one job per (type, key) while it is unfinished and for
 * the type's window after it finished, also under producers in several
 * processes enqueuing the same keys at the same moment.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import type { Job } from "../../src/core/job.ts";
import { createSpool, type SpoolOptions } from "../../src/index.ts";
import { currentRuntime, type RunningProcess, runtimeCommand, startProcess } from "../support/processes.ts";
import { reachStatus } from "../support/job-status.ts";
import { openSpool, tempDatabase, waitFor } from "../support/system.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<SpoolOptions> = {}) {
  // a clock the test can move forward, so a 60 s window passes without waiting
  let offset = 0;
  const clock = { now: () => Date.now() + offset, sleep: systemClock.sleep };
  const { spool, cleanup } = await openSpool({ clock, ...options });
  cleanups.push(cleanup);
  const reach = (id: string, status: Job["status"]) => reachStatus(spool, id, status);
  const advanceTo = (at: number) => {
    offset += Math.max(0, at - clock.now());
  };
  return { spool, clock, reach, advanceTo };
}

describe("idempotent enqueue", () => {
  it("returns the existing job's id with deduplicated: true and writes nothing", async () => {
    const { spool } = await setup();
    const first = await spool.enqueue("charge", { cents: 100 }, { idempotencyKey: "order-1", priority: 5 });
    expect(first.deduplicated).toBe(false);
    const before = await spool.getJob(first.id);

    const again = await spool.enqueue("charge", { cents: 999 }, { idempotencyKey: "order-1", priority: 20, delayMs: 5000 });
    expect(again).toEqual({ id: first.id, deduplicated: true });
    expect(await spool.getJob(first.id)).toEqual(before);
    expect(await spool.countJobs()).toMatchObject({ pending: 1, scheduled: 0 });

    // the key belongs to the type: another type may use it
    const otherType = await spool.enqueue("refund", null, { idempotencyKey: "order-1" });
    expect(otherType.deduplicated).toBe(false);
    expect(otherType.id).not.toBe(first.id);
  });

  it("deduplicates within one enqueueMany batch and against earlier jobs, keeping input order", async () => {
    const { spool } = await setup();
    const held = await spool.enqueue("charge", { n: 0 }, { idempotencyKey: "a" });
    const results = await spool.enqueueMany([
      { type: "charge", payload: { n: 1 }, options: { idempotencyKey: "a" } },
      { type: "charge", payload: { n: 2 }, options: { idempotencyKey: "b" } },
      { type: "charge", payload: { n: 3 } },
      { type: "charge", payload: { n: 4 }, options: { idempotencyKey: "b" } },
    ]);
    expect(results[0]).toEqual({ id: held.id, deduplicated: true });
    expect(results[1]!.deduplicated).toBe(false);
    expect(results[2]!.deduplicated).toBe(false);
    expect(results[3]).toEqual({ id: results[1]!.id, deduplicated: true });
    const page = await spool.listJobs({ status: "pending" });
    expect(page.jobs.map((j) => j.payload)).toEqual([{ n: 0 }, { n: 2 }, { n: 3 }]);
  });

  it("holds the key while the job is retrying, and for the type's window after it finished", async () => {
    const { spool, reach, advanceTo } = await setup();
    let fail = true;
    spool.define("charge", () => {
      if (fail) throw new Error("gateway down");
    }, { idempotencyWindowMs: 60_000, backoff: { type: "fixed", baseMs: 0, jitter: false } });
    const runtime = await spool.start({ http: false, minPollMs: 5, maxPollMs: 50 });
    cleanups.push(() => runtime.stop({ graceMs: 0 }));

    const { id } = await spool.enqueue("charge", { cents: 1 }, { idempotencyKey: "order-7" });
    await waitFor("a failed attempt", async () => ((await spool.getJob(id))?.history.length ?? 0) >= 1);
    expect(await spool.enqueue("charge", { cents: 2 }, { idempotencyKey: "order-7" })).toEqual({ id, deduplicated: true });
    fail = false;
    const done = await reach(id, "completed");

    advanceTo(done.finishedAt! + 59_000);
    expect(await spool.enqueue("charge", { cents: 3 }, { idempotencyKey: "order-7" })).toEqual({ id, deduplicated: true });

    advanceTo(done.finishedAt! + 60_000);
    const fresh = await spool.enqueue("charge", { cents: 4 }, { idempotencyKey: "order-7" });
    expect(fresh.deduplicated).toBe(false);
    expect(fresh.id).not.toBe(id);
    expect(await spool.enqueue("charge", { cents: 5 }, { idempotencyKey: "order-7" })).toEqual({ id: fresh.id, deduplicated: true });
    // the finished job is untouched by its key being reused
    expect(await spool.getJob(id)).toEqual(done);
    expect((await spool.getJob(fresh.id))!.payload).toEqual({ cents: 4 });
    expect((await reach(fresh.id, "completed")).idempotencyKey).toBe("order-7");
  });

  it("holds a cancelled job's key for the window, counted from the cancel", async () => {
    const { spool, advanceTo } = await setup();
    spool.define("charge", () => undefined, { idempotencyWindowMs: 10_000 });
    const { id } = await spool.enqueue("charge", null, { idempotencyKey: "k", delayMs: 60_000 });
    await spool.cancel(id);
    // the window starts at the cancel as the store recorded it
    const cancelledAt = (await spool.getJob(id))!.finishedAt!;
    expect((await spool.enqueue("charge", null, { idempotencyKey: "k" })).id).toBe(id);
    // a second short of the window's end (real time keeps running under the moved clock)
    advanceTo(cancelledAt + 9_000);
    expect((await spool.enqueue("charge", null, { idempotencyKey: "k" })).deduplicated).toBe(true);
    advanceTo(cancelledAt + 10_000);
    expect((await spool.enqueue("charge", null, { idempotencyKey: "k" })).deduplicated).toBe(false);
  });

  it("gives exactly one job per key when 4 producer processes enqueue the same keys at once", async () => {
    const runtime = currentRuntime();
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    const go = join(db.dir, "go");
    const keys = 50;
    // one plain-JavaScript script on the built library runs on every runtime
    const [command, args] = runtimeCommand(runtime, { ts: "test/fixtures/producer.mjs", js: "test/fixtures/producer.mjs" });
    const producers: RunningProcess[] = [];
    for (let p = 1; p <= 4; p++) {
      const proc = startProcess(command, args, {
        env: { PRODUCER_URL: db.url, PRODUCER_KEYS: String(keys), PRODUCER_GO: go, PRODUCER_NAME: `p${p}` },
      });
      cleanups.push(() => proc.kill("SIGKILL"));
      producers.push(proc);
    }
    await Promise.all(producers.map((p) => p.waitForOutput("ready", 60_000)));
    writeFileSync(go, "");
    await Promise.all(producers.map((p) => p.waitForOutput("result ", 60_000)));
    expect(await Promise.all(producers.map((p) => p.exited))).toEqual([0, 0, 0, 0]);

    const reported = producers.map((p) => JSON.parse(p.output().split("result ")[1]!.split("\n")[0]!) as Array<{ id: string; deduplicated: boolean }>);
    const spool = await createSpool({ url: db.url });
    cleanups.push(() => spool.close());
    const page = await spool.listJobs({ status: "pending", type: "charge", limit: 500 });
    expect(page.jobs).toHaveLength(keys);
    expect(new Set(page.jobs.map((j) => j.idempotencyKey)).size).toBe(keys);
    for (let key = 0; key < keys; key++) {
      const row = page.jobs.find((j) => j.idempotencyKey === `order-${key}`)!;
      expect(row.payload).toMatchObject({ key });
      // every producer was told the one id that exists, and exactly one of them created it
      expect(reported.map((r) => r[key]!.id)).toEqual([row.id, row.id, row.id, row.id]);
      const creators = reported.filter((r) => !r[key]!.deduplicated).map((r) => `p${reported.indexOf(r) + 1}`);
      expect(creators).toEqual([(row.payload as { producer: string }).producer]);
    }
    expect(await spool.countJobs()).toMatchObject({ pending: keys, scheduled: 0, running: 0 });
  });
});
