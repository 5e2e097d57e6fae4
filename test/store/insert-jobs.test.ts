import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import type { NewJobRow } from "../../src/core/job.ts";
import { Store } from "../../src/store/store.ts";
import { tempDatabase } from "../support/system.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function setup() {
  const db = tempDatabase();
  cleanups.push(db.cleanup);
  const store = await Store.open({ url: db.url }, systemClock);
  cleanups.unshift(() => store.close());
  return store;
}

function row(payload: unknown, changes: Partial<NewJobRow> = {}): NewJobRow {
  return {
    type: "t", queue: "default", payload: JSON.stringify(payload), status: "pending", priority: 0, maxAttempts: 3,
    runAt: 1000, createdAt: 1000, timeoutMs: null, backoff: null, idempotencyKey: null, idempotencyWindowMs: 60_000,
    workflowId: null, parentId: null, scheduleName: null, scheduledFor: null, ...changes,
  };
}

// a value for each field that differs from row()'s and is valid on its own
const OTHER_VALUE: { [field in Exclude<keyof NewJobRow, "payload">]: unknown } = {
  type: "u", queue: "mail", status: "scheduled", priority: 10, maxAttempts: 5, runAt: 2000, createdAt: 999,
  timeoutMs: 500, backoff: JSON.stringify({ type: "fixed", delayMs: 5 }), idempotencyKey: "key", idempotencyWindowMs: 1,
  workflowId: "wf", parentId: "1", scheduleName: "nightly", scheduledFor: 2000,
};

const column = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

async function storedRows(store: Store, ids: string[]) {
  const result = await store.db.execute({
    sql: `SELECT * FROM spool_jobs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`,
    args: [JSON.stringify(ids.map(Number))],
  });
  return result.rows;
}

describe("insertJobs", () => {
  it("writes each job's own values when jobs in a batch differ in any one field", async () => {
    const store = await setup();
    expect(Object.keys(OTHER_VALUE).sort()).toEqual(Object.keys(row(null)).filter((f) => f !== "payload").sort());
    for (const [field, value] of Object.entries(OTHER_VALUE)) {
      // a run long enough to go as one statement, with the odd job in its middle
      const rows = Array.from({ length: 30 }, (_, i) => row({ i }, i === 15 ? { [field]: value } : {}));
      const results = await store.insertJobs(rows, 1000);
      const stored = await storedRows(store, results.map((r) => r.id));
      expect(stored).toHaveLength(30);
      stored.forEach((s, i) => {
        const expected = rows[i]![field as keyof NewJobRow];
        expect({ field, i, value: s[column(field)] }).toEqual({ field, i, value: expected === null ? null : field === "parentId" ? Number(expected) : expected });
        expect(JSON.parse(String(s.payload))).toEqual({ i });
      });
    }
  });

  it("keeps input order across runs of alike jobs, mixed jobs and keyed jobs", async () => {
    const store = await setup();
    const rows = [
      ...Array.from({ length: 20 }, (_, i) => row({ n: i })),
      // alternating priorities: no run, so rows of the bulk statements (10, then 1s)
      ...Array.from({ length: 15 }, (_, i) => row({ n: 20 + i }, { priority: i % 2 })),
      row({ n: 35 }, { idempotencyKey: "k" }),
      // longer than one run statement takes
      ...Array.from({ length: 1503 }, (_, i) => row({ n: 36 + i }, { queue: "bulk" })),
      ...Array.from({ length: 3 }, (_, i) => row({ n: 1539 + i }, { maxAttempts: 1 + i })),
    ];
    const results = await store.insertJobs(rows, 1000);
    const ids = results.map((r) => Number(r.id));
    expect(ids).toEqual(Array.from({ length: rows.length }, (_, i) => ids[0]! + i));
    const stored = await storedRows(store, results.map((r) => r.id));
    expect(stored.map((s) => JSON.parse(String(s.payload)).n)).toEqual(rows.map((_, i) => i));
    expect(stored.map((s) => [s.queue, Number(s.priority), Number(s.max_attempts)])).toEqual(
      rows.map((r) => [r.queue, r.priority, r.maxAttempts]),
    );
  });

  it("keeps payload text exactly as encoded, including escapes and large numbers", async () => {
    const store = await setup();
    const payloads = ["plain", 'quote " and \\ backslash', "\u0000\u001f control", "é ü 中文 😀", 12345678901234567890, 0.1 + 0.2, true, null, [1, "x"], { a: { b: [] } }];
    const rows = payloads.map((p) => row(p));
    const stored = await storedRows(store, (await store.insertJobs(rows, 1000)).map((r) => r.id));
    expect(stored.map((s) => s.payload)).toEqual(rows.map((r) => r.payload));
  });
});
