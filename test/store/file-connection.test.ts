/**
 * The local-file connection: URL reading as @libsql/client does it, kept
 * statements, transactions, and what another process's lock does to it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "@libsql/client";
import { FileConnection, filePath } from "../../src/store/file-connection.ts";
import { tempDatabase } from "../support/system.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function open() {
  const db = tempDatabase();
  cleanups.push(db.cleanup);
  const connection = new FileConnection(db.url, 0);
  cleanups.push(() => connection.close());
  return { connection, ...db };
}

describe("FileConnection", () => {
  it("reads file: URLs the way @libsql/client does", () => {
    expect(filePath("file:data/spool.db")).toBe("data/spool.db");
    expect(filePath("file:./data/spool.db")).toBe("./data/spool.db");
    expect(filePath("file:/var/lib/spool.db")).toBe("/var/lib/spool.db");
    expect(filePath("file:///var/lib/spool.db")).toBe("/var/lib/spool.db");
    expect(filePath("file://localhost/var/lib/my%20spool.db")).toBe("/var/lib/my spool.db");
    expect(filePath("file:spool.db?tls=0")).toBe("spool.db");
    expect(filePath("file::memory:")).toBe(":memory:");
    expect(() => filePath("file://db.example.com/spool.db")).toThrow(/cannot name a host/);
  });

  it("skips a batch statement whose onlyIf finds no row (or no row with its column set), and runs it when one is found", async () => {
    const { connection } = open();
    await connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, flag INTEGER)");
    await connection.execute("INSERT INTO t (id, flag) VALUES (1, NULL), (2, 1)");
    const results = await connection.batch([
      "SELECT id, flag FROM t WHERE id = 1",
      { sql: "UPDATE t SET flag = 10 WHERE id = 1", onlyIf: { at: 0 } },
      { sql: "UPDATE t SET flag = 20 WHERE id = 2", onlyIf: { at: 0, column: "flag" } },
      "SELECT id FROM t WHERE id = 3",
      { sql: "UPDATE t SET flag = 30 WHERE id = 2", onlyIf: { at: 3 } },
    ]);
    expect(results.map((r) => r.rowsAffected)).toEqual([0, 1, 0, 0, 0]);
    expect((await connection.execute("SELECT id, flag FROM t ORDER BY id")).rows).toEqual([
      { id: 1, flag: 10 },
      { id: 2, flag: 1 },
    ]);
  });

  it("runs statements with named and positional arguments, and batches as one transaction", async () => {
    const { connection } = open();
    await connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, flag INTEGER)");
    const inserted = await connection.execute({ sql: "INSERT INTO t (name, flag) VALUES (:name, :flag)", args: { name: "a", flag: true } });
    expect(inserted).toMatchObject({ rowsAffected: 1, lastInsertRowid: 1 });
    await connection.execute({ sql: "INSERT INTO t (name, flag) VALUES (?, ?), (?, ?)", args: ["b", false, "c", null] });
    expect((await connection.execute("SELECT name, flag FROM t ORDER BY id")).rows).toEqual([
      { name: "a", flag: 1 },
      { name: "b", flag: 0 },
      { name: "c", flag: null },
    ]);
    // a failing statement rolls back the whole batch
    await expect(
      connection.batch([{ sql: "INSERT INTO t (name) VALUES (?)", args: ["d"] }, { sql: "INSERT INTO t (name) VALUES (NULL)" }]),
    ).rejects.toThrow(/SQLITE_CONSTRAINT/);
    expect((await connection.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(3);
    await expect(connection.execute({ sql: "SELECT ?", args: [undefined] })).rejects.toThrow(/undefined/);
  });

  it("meets another connection's lock only at BEGIN, so a write refused for SQLITE_BUSY cannot break a later commit", async () => {
    const { connection, url } = open();
    await connection.execute("PRAGMA journal_mode = WAL");
    await connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
    await connection.execute("INSERT INTO t (n) VALUES (0)");
    const other = createClient({ url });
    cleanups.push(() => other.close());
    const holder = await other.transaction("write");
    await holder.execute("UPDATE t SET n = 100");
    // a write that returns rows, as the claim does: the driver steps it like a query
    await expect(connection.execute("UPDATE t SET n = n + 1 RETURNING n")).rejects.toMatchObject({ code: "SQLITE_BUSY" });
    await holder.rollback();
    // the refused UPDATE left nothing active behind: this commit goes through
    await connection.batch(["UPDATE t SET n = n + 1", "UPDATE t SET n = n + 1"]);
    expect((await connection.execute("SELECT n FROM t")).rows).toEqual([{ n: 2 }]);
  });

  it("reopens its file on reconnect and answers CLIENT_CLOSED once closed", async () => {
    const { connection } = open();
    await connection.execute("CREATE TABLE t (n INTEGER)");
    await connection.execute("INSERT INTO t VALUES (1)");
    connection.reconnect();
    expect((await connection.execute("SELECT n FROM t")).rows).toEqual([{ n: 1 }]);
    connection.close();
    expect(connection.closed).toBe(true);
    await expect(connection.execute("SELECT 1")).rejects.toMatchObject({ code: "CLIENT_CLOSED" });
  });
});
