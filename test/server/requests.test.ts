/**
 * Over a libSQL server every round trip costs latency, so every queue
 * operation is one request: counted here through a client that wraps the real
 * @libsql/client, against a real sqld.
 */
import { type Client, createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { createSpool } from "../../src/index.ts";
import { serverForFile } from "../support/sqld.ts";
import { waitFor } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const server = serverForFile("spool-requests-");

/** The real client, counting the requests made through it, by the start of their first statement. */
function countingClient(url: string): { client: Client; calls: string[] } {
  const real = createClient({ url });
  const calls: string[] = [];
  const sqlOf = (s: unknown) => (typeof s === "string" ? s : (s as { sql: string }).sql).trim().slice(0, 40);
  const client = new Proxy(real, {
    get(target, property, receiver) {
      if (property === "execute") return (statement: unknown) => (calls.push(sqlOf(statement)), target.execute(statement as string));
      if (property === "batch") {
        return (statements: unknown[], mode?: "write" | "read" | "deferred") => (calls.push(sqlOf(statements[0])), target.batch(statements as string[], mode));
      }
      const value = Reflect.get(target, property, receiver);
      // the client keeps private fields, which only the client itself may touch
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { client, calls };
}

describe("requests to a libSQL server", () => {
  it("claims a batch of 50 jobs in one request and completes them in one more", async () => {
    const { client, calls } = countingClient(server.url);
    const spool = await createSpool({ url: server.url, client });
    try {
      spool.define("batch-of-50", () => {});
      await spool.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: "batch-of-50", payload: { i } })));
      const now = Date.now();
      calls.length = 0;
      const claimed = await storeOf(spool).claimJobs({ limit: 50, types: new Map([["batch-of-50", {}]]), queues: null, workerId: "counter", token: "t-50", now, leaseMs: 30_000 });
      expect(claimed).toHaveLength(50);
      expect(calls).toHaveLength(1);
      const done = await storeOf(spool).completeJobs(
        claimed.map((job) => ({ id: job.id, token: job.leaseToken, finishedAt: now + 1, reason: "complete" as const, status: "completed" as const, runAt: null, outcome: "completed" as const, error: null, stack: null })),
        now + 1,
      );
      expect(done.written.size).toBe(50);
      expect(calls).toHaveLength(2);
      expect((await storeOf(spool).countJobsByStatus()).completed).toBe(50);
    } finally {
      await spool.close();
    }
  });

  it("polls an idle server at most once per poll interval per service", async () => {
    const { client, calls } = countingClient(server.url);
    const spool = await createSpool({ url: server.url, client, leaseMs: 30_000 });
    // a worker claims only types it defines; with none it would never ask
    spool.define("idle", () => {});
    const pollMs = 200;
    const worker = await spool.start({ http: false, minPollMs: pollMs, maxPollMs: pollMs });
    try {
      // settle into idleness, then count from a known point
      await waitFor("the first polls", () => calls.length > 5 || null);
      calls.length = 0;
      const started = Date.now();
      await waitFor("ten idle polls", () => calls.filter((sql) => /^UPDATE|^WITH/i.test(sql)).length >= 10 || null, 30_000);
      const elapsed = Date.now() - started;
      const perService = new Map<string, number>();
      for (const sql of calls) perService.set(sql, (perService.get(sql) ?? 0) + 1);
      // every idle service here waits at least pollMs between passes (producer and promoter
      // at 200 ms, ager 1 s, reaper and cron 5 s), and each pass is one request
      for (const [sql, count] of perService) expect(count, sql).toBeLessThanOrEqual(Math.floor(elapsed / pollMs) + 1);
      expect(calls.length).toBeLessThanOrEqual(2 * (Math.floor(elapsed / pollMs) + 1) + Math.floor(elapsed / 1000) + 1 + 2);
    } finally {
      await worker.stop();
      await spool.close();
    }
  });
});
