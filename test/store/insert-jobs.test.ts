import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import type { NewJobRow } from "../../src/core/job.ts";
import { Store } from "../../src/store/store.ts";
import { jobRow } from "../support/job-rows.ts";
import { tempDatabase } from "../support/system.ts";
import { nativePlatform } from "../../src/platform/native.ts";
const { connect } = nativePlatform;

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function setup() {
  const db = tempDatabase();
  cleanups.push(db.cleanup);
  const store = await Store.open({ url: db.url, connect }, systemClock);
  cleanups.unshift(() => store.close());
  return store;
}

const run = (payloads: unknown[], changes: Partial<NewJobRow> = {}) => {
  const texts = payloads.map((p) => JSON.stringify(p));
  return { row: jobRow({ ...changes, payload: texts[0]! }), payloads: texts };
};
const numbered = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ n: from + i }));

async function storedRows(store: Store, ids: string[]) {
  const result = await store.db.execute({
    sql: `SELECT * FROM spool_jobs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`,
    args: [JSON.stringify(ids.map(Number))],
  });
  return result.rows;
}

describe("insertJobs", () => {
  it("keeps input order and each job's own values across long runs, short runs and keyed jobs", async () => {
    const store = await setup();
    const runs = [
      run(numbered(0, 20)),
      // short runs: rows of the bulk statements (10, then 1s)
      ...Array.from({ length: 15 }, (_, i) => run(numbered(20 + i, 1), { priority: i % 2 })),
      run(numbered(35, 3), { queue: "three" }),
      run(numbered(38, 1), { idempotencyKey: "k" }),
      // longer than one run statement takes
      run(numbered(39, 1503), { queue: "bulk", maxAttempts: 7 }),
      run(numbered(1542, 2), { maxAttempts: 1 }),
    ];
    const expected = runs.flatMap((r) => r.payloads.map(() => [r.row.queue, r.row.priority, r.row.maxAttempts]));
    const results = await store.insertJobs(runs, 1000);
    const ids = results.map((r) => Number(r.id));
    expect(ids).toEqual(Array.from({ length: expected.length }, (_, i) => ids[0]! + i));
    const stored = await storedRows(store, results.map((r) => r.id));
    expect(stored.map((s) => JSON.parse(String(s.payload)).n)).toEqual(expected.map((_, i) => i));
    expect(stored.map((s) => [s.queue, Number(s.priority), Number(s.max_attempts)])).toEqual(expected);
  });

  it("inserts the first job of a keyed run and hands the others its id as deduplicated", async () => {
    const store = await setup();
    const results = await store.insertJobs([run(numbered(0, 3), { idempotencyKey: "same" })], 1000);
    expect(results.map((r) => r.deduplicated)).toEqual([false, true, true]);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect((await storedRows(store, [results[0]!.id])).map((s) => JSON.parse(String(s.payload)))).toEqual([{ n: 0 }]);
  });

  it("keeps payload text exactly as encoded, in a run statement and in bulk rows", async () => {
    const store = await setup();
    const payloads = ["plain", 'quote " and \\ backslash', "\u0000\u001f control", "é ü 中文 😀", 12345678901234567890, 0.1 + 0.2, true, null, [1, "x"], { a: { b: [] } }];
    const runs = [run(payloads), ...payloads.map((p) => run([p], { priority: 1 }))];
    const stored = await storedRows(store, (await store.insertJobs(runs, 1000)).map((r) => r.id));
    expect(stored.map((s) => s.payload)).toEqual([...runs[0]!.payloads, ...runs[0]!.payloads]);
  });
});
