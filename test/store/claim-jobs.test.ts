import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import { Store } from "../../src/store/store.ts";
import { CLAIM_SQL_FOR_PLAN } from "../../src/store/claim-jobs.ts";
import { HOLDER_OF_KEY_SQL, RELEASE_EXPIRED_KEY_SQL } from "../../src/store/insert-jobs.ts";
import { EXPIRED_SQL } from "../../src/store/leases.ts";
import { NEXT_DUE_SQL, PROMOTE_SQL } from "../../src/store/promote-due-jobs.ts";
import { COUNTS_BY_TYPE_SQL, COUNTS_SQL, PAGE_SQL } from "../../src/store/read-jobs.ts";
import { jobRow, runsOf } from "../support/job-rows.ts";
import { tempDatabase } from "../support/system.ts";
import { nativePlatform } from "../../src/platform/native.ts";
const { connect } = nativePlatform;

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function setup() {
  const db = tempDatabase();
  const store = await Store.open({ url: db.url, connect }, systemClock);
  cleanups.push(() => {
    store.close();
    db.cleanup();
  });
  return { store, url: db.url };
}

const SERVES_T = new Map([["t", {}]]);

const claim = (store: Store, limit: number, token: string = crypto.randomUUID(), now = 5000) =>
  store.claimJobs({ limit, types: SERVES_T, queues: null, workerId: "w1", token, now, leaseMs: 30_000 });

describe("claimJobs", () => {
  it("takes jobs by priority, then run time, then id, and never more than asked", async () => {
    const { store } = await setup();
    const ids = await store.insertJobs(
      runsOf([jobRow({ runAt: 30 }), jobRow({ priority: 10, runAt: 50 }), jobRow({ runAt: 10 }), jobRow({ priority: 10, runAt: 20 }), jobRow({ runAt: 10 })]),
      1000,
    );
    const first = await claim(store, 3);
    expect(first.map((j) => j.id)).toEqual([ids[3]!.id, ids[1]!.id, ids[2]!.id]);
    const rest = await claim(store, 10);
    expect(rest.map((j) => j.id)).toEqual([ids[4]!.id, ids[0]!.id]);
    expect(await claim(store, 10)).toEqual([]);
  });

  it("writes a lease token, a lease expiry, the worker and a spent attempt on each claimed job", async () => {
    const { store } = await setup();
    const [{ id }] = (await store.insertJobs(runsOf([jobRow()]), 1000)) as unknown as [{ id: string }];
    const [job] = await claim(store, 1, "token-a", 7000);
    expect(job).toMatchObject({ id, status: "running", attempts: 1, leaseToken: "token-a", leaseExpiresAt: 37_000, startedAt: 7000, workerId: "w1" });
    const stored = await store.getJob(id);
    expect(stored).toMatchObject({ status: "running", attempts: 1, startedAt: 7000 });
  });

  it("leaves scheduled, paused-queue and other-queue jobs alone", async () => {
    const { store } = await setup();
    const [scheduled, paused, other, ready] = await store.insertJobs(
      runsOf([jobRow({ status: "scheduled", runAt: 1 }), jobRow({ queue: "held" }), jobRow({ queue: "emails" }), jobRow({})]),
      1000,
    );
    await store.setQueuePaused("held", true);
    const claimed = await store.claimJobs({ limit: 10, types: SERVES_T, queues: ["default", "held"], workerId: "w", token: "t", now: 5000, leaseMs: 1000 });
    expect(claimed.map((j) => j.id)).toEqual([ready!.id]);
    expect((await store.getJob(scheduled!.id))!.status).toBe("scheduled");
    expect((await store.getJob(paused!.id))!.status).toBe("pending");
    expect((await store.getJob(other!.id))!.status).toBe("pending");
  });

  it("claims only the types it is given, leaving pending jobs of other types untouched even ahead in priority", async () => {
    const { store } = await setup();
    const [other, mine, third] = await store.insertJobs(
      runsOf([jobRow({ type: "other", priority: 20 }), jobRow({ type: "t" }), jobRow({ type: "u", priority: 10 })]),
      1000,
    );
    const claimed = await store.claimJobs({ limit: 10, types: new Map([["t", {}], ["u", {}]]), queues: null, workerId: "w", token: "k", now: 5000, leaseMs: 1000 });
    expect(claimed.map((j) => j.id)).toEqual([third!.id, mine!.id]);
    expect(await store.getJob(other!.id)).toMatchObject({ status: "pending", attempts: 0 });
    expect(await store.claimJobs({ limit: 10, types: new Map(), queues: null, workerId: "w", token: "k", now: 5000, leaseMs: 1000 })).toEqual([]);
  });

  it("writes the options a job was enqueued without from the claiming worker's definition, and keeps those set explicitly", async () => {
    const { store } = await setup();
    const [left, kept, partly, undefinedThere] = await store.insertJobs(
      runsOf([
        jobRow({ maxAttempts: 3, timeoutMs: null, optionsFromType: 3 }),
        jobRow({ maxAttempts: 7, timeoutMs: 900, optionsFromType: 0 }),
        jobRow({ maxAttempts: 7, timeoutMs: 900, optionsFromType: 2 }),
        jobRow({ type: "u", maxAttempts: 5, timeoutMs: 100, optionsFromType: 3 }),
      ]),
      1000,
    );
    const types = new Map([["t", { maxAttempts: 1, timeoutMs: 500 }], ["u", {}]]);
    const claimed = await store.claimJobs({ limit: 10, types, queues: null, workerId: "w", token: "k", now: 5000, leaseMs: 1000 });
    const byId = new Map(claimed.map((j) => [j.id, j]));
    expect(byId.get(left!.id)).toMatchObject({ maxAttempts: 1, timeoutMs: 500 });
    expect(byId.get(kept!.id)).toMatchObject({ maxAttempts: 7, timeoutMs: 900 });
    expect(byId.get(partly!.id)).toMatchObject({ maxAttempts: 7, timeoutMs: 500 });
    // a definition that leaves them unset gives the built-in defaults, not the enqueuer's
    expect(byId.get(undefinedThere!.id)).toMatchObject({ maxAttempts: 3, timeoutMs: null });
    expect(await store.getJob(left!.id)).toMatchObject({ maxAttempts: 1, timeoutMs: 500 });
  });

  it("never hands one job to two racing claimers on the same file", async () => {
    const { store, url } = await setup();
    const others = await Promise.all([1, 2, 3].map(() => Store.open({ url, connect }, systemClock)));
    cleanups.push(() => others.forEach((s) => s.close()));
    await store.insertJobs(runsOf(Array.from({ length: 600 }, () => jobRow())), 1000);
    const seen = new Map<string, number>();
    await Promise.all(
      [store, ...others].map(async (s) => {
        for (;;) {
          const jobs = await claim(s, 7);
          if (jobs.length === 0) return;
          for (const j of jobs) seen.set(j.id, (seen.get(j.id) ?? 0) + 1);
        }
      }),
    );
    expect(seen.size).toBe(600);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it("is served by one probe of the ready index per served type, walked in order, without sorting the table", async () => {
    const { store } = await setup();
    for (const sql of [CLAIM_SQL_FOR_PLAN.sharedOptions, CLAIM_SQL_FOR_PLAN.optionsByType]) {
      const plan = await store.db.execute({
        sql: `EXPLAIN QUERY PLAN ${sql}`,
        args: { now: 1, expires: 2, token: "t", worker: "w", limit: 10, types: '{"a":[1,null],"b":[null,null]}', queues: null, max_attempts: 3, timeout_ms: null },
      });
      const details = plan.rows.map((r) => String(r.detail));
      // covering since the index ends with the queue (migration 7): the probe tests paused queues without reading rows
      expect(details).toContain("SEARCH p USING COVERING INDEX spool_jobs_ready (type=?)");
      // the only full-table steps allowed are over tiny settings tables and small temp sets
      expect(details.filter((d) => /^SCAN spool_jobs\b(?! USING INDEX spool_jobs_ready)/.test(d))).toEqual([]);
    }
  });

  it("serves promotion, lease expiry and idempotency lookups from their indexes", async () => {
    const { store } = await setup();
    const explain = async (sql: string, args: Record<string, unknown>) =>
      (await store.db.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: args as never })).rows.map((r) => String(r.detail));
    expect((await explain(PROMOTE_SQL, { now: 1, limit: 10 })).join()).toMatch(/USING (COVERING )?INDEX spool_jobs_due \(run_at<\?\)/);
    expect((await explain(NEXT_DUE_SQL, {})).join()).toContain("spool_jobs_due");
    expect((await explain(EXPIRED_SQL, { now: 1, limit: 10 })).join()).toContain("USING INDEX spool_jobs_leases (lease_expires_at<?)");
    expect((await explain(HOLDER_OF_KEY_SQL, { type: "a", key: "b" })).join()).toContain("spool_jobs_idempotency (type=? AND idempotency_key=?)");
    expect((await explain(RELEASE_EXPIRED_KEY_SQL, { type: "a", key: "b", now: 1 })).join()).toContain("spool_jobs_idempotency (type=? AND idempotency_key=?)");
    for (const plan of [await explain(PROMOTE_SQL, { now: 1, limit: 10 }), await explain(EXPIRED_SQL, { now: 1, limit: 10 })]) {
      expect(plan.join()).not.toContain("TEMP B-TREE");
    }
  });

  it("lists and counts every status through an index, never by scanning the table", async () => {
    const { store } = await setup();
    const explain = async (sql: string, args: Record<string, unknown>) =>
      (await store.db.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: args as never })).rows.map((r) => String(r.detail));
    expect(PAGE_SQL.size).toBe(14);
    for (const [key, sql] of PAGE_SQL) {
      const [status] = key.split(":");
      const plan = await explain(sql, key.endsWith(":type") ? { type: "t", after: 0, limit: 10 } : { after: 0, limit: 10 });
      expect(plan.join(), key).toMatch(/USING (COVERING )?INDEX spool_jobs_(blocked|due|ready|leases|finished)/);
      expect(plan.filter((d) => /^SCAN spool_jobs$/.test(d)), key).toEqual([]);
    }
    // finished jobs, the ones that pile up, page down their index without a sort
    for (const status of ["completed", "dead", "cancelled"]) {
      expect((await explain(PAGE_SQL.get(`${status}:type`)!, { type: "t", after: 0, limit: 10 })).join()).not.toContain("TEMP B-TREE");
    }
    const counts = await explain(COUNTS_SQL, {});
    expect(counts.filter((d) => /^SCAN spool_jobs\b/.test(d) && !/INDEX/.test(d))).toEqual([]);
    const byType = await explain(COUNTS_BY_TYPE_SQL, {});
    expect(byType.filter((d) => /^SCAN spool_jobs\b/.test(d) && !/INDEX/.test(d))).toEqual([]);
    // pending and finished jobs are counted per type from their index entries alone
    expect(byType.filter((d) => /COVERING INDEX spool_jobs_(ready|finished)/.test(d)).length).toBeGreaterThanOrEqual(4);
  });
});
