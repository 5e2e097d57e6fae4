/**
 * spool.sql: a jobs module's own SQL on the Spool's database, in its own
 * tables, with Spool's tables out of reach.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SpoolError } from "../../src/core/errors.ts";
import { createSpool } from "../../src/index.ts";
import { openSpool, tempDatabase } from "../support/system.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("spool.sql", () => {
  it("runs statements and batches on the Spool's database, where a second process on the same file sees them", async () => {
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    const spool = await createSpool({ url: db.url });
    cleanups.push(() => spool.close());
    await spool.sql.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    const [inserted, read] = await spool.sql.batch([
      { sql: "INSERT INTO notes (body) VALUES (?), (?)", args: ["a", "b"] },
      { sql: "SELECT body FROM notes WHERE body >= :from ORDER BY id", args: { from: "a" } },
    ]);
    expect(inserted!.rowsAffected).toBe(2);
    expect(read!.rows.map((r) => r.body)).toEqual(["a", "b"]);

    const other = await createSpool({ url: db.url });
    cleanups.push(() => other.close());
    expect((await other.sql.execute("SELECT COUNT(*) AS n FROM notes")).rows[0]!.n).toBe(2);
  });

  it("rolls a failing batch back whole", async () => {
    const { spool, cleanup } = await openSpool();
    cleanups.push(cleanup);
    await spool.sql.execute("CREATE TABLE stock (sku TEXT PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0))");
    await spool.sql.execute("INSERT INTO stock VALUES ('mug', 1)");
    await expect(
      spool.sql.batch([
        { sql: "INSERT INTO stock VALUES ('cup', 5)" },
        { sql: "UPDATE stock SET n = n - 2 WHERE sku = 'mug'" },
      ]),
    ).rejects.toThrow(/CHECK constraint failed/);
    expect((await spool.sql.execute("SELECT sku, n FROM stock")).rows.map((r) => [r.sku, r.n])).toEqual([["mug", 1]]);
  });

  it("refuses a statement that names one of Spool's own tables, and an empty one, with INVALID_OPTIONS", async () => {
    const { spool, cleanup } = await openSpool();
    cleanups.push(cleanup);
    await spool.enqueue("x", {});
    const refused = await spool.sql.execute("DELETE FROM spool_jobs").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SpoolError);
    expect(refused).toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringContaining("spool_jobs is one of Spool's own tables") });
    await expect(spool.sql.batch([{ sql: "SELECT 1" }, { sql: "select * from SPOOL_SCHEDULES" }])).rejects.toThrow(/spool.sql.batch\[1\]: SPOOL_SCHEDULES/);
    await expect(spool.sql.execute("  ")).rejects.toThrow(/sql must be a non-empty string/);
    expect((await spool.countJobs()).pending).toBe(1);
  });
});
