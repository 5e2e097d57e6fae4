import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import { Database } from "../../src/store/database.ts";
import { LATEST_SCHEMA_VERSION, migrate } from "../../src/store/migrate.ts";
import { MIGRATIONS } from "../../src/store/schema.ts";
import { Store } from "../../src/store/store.ts";
import { runtimeCommand, startProcess } from "../support/processes.ts";
import { tempDatabase } from "../support/system.ts";
import { nativePlatform } from "../../src/platform/native.ts";
const { connect } = nativePlatform;

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function setup() {
  const db = tempDatabase();
  cleanups.push(db.cleanup);
  return db;
}

async function open(url: string) {
  const db = await Database.open({ url, connect }, systemClock);
  cleanups.unshift(() => db.close());
  return db;
}

describe("migrate", () => {
  it("applies every migration once and does nothing the second time", async () => {
    const { url } = setup();
    const db = await open(url);
    expect(await migrate(db, () => 1)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(db, () => 2)).toEqual([]);
    const ledger = await db.execute("SELECT version, applied_at FROM spool_migrations");
    expect(ledger.rows.map((r) => [Number(r.version), Number(r.applied_at)])).toEqual(MIGRATIONS.map((m) => [m.version, 1]));
  });

  it("keeps a completed attempt recorded before version 2 once, not twice", async () => {
    const { url } = setup();
    const db = await open(url);
    await db.execute("CREATE TABLE spool_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    await db.batch([...MIGRATIONS[0]!.statements, { sql: "INSERT INTO spool_migrations VALUES (1, 'v1', 1)" }]);
    const attempt = (n: number, outcome: string) => ({ attempt: n, startedAt: 10, finishedAt: 20, durationMs: 10, outcome, error: null, stack: null, workerId: "w" });
    const history = JSON.stringify([attempt(1, "failed"), attempt(2, "completed")]);
    await db.execute({
      sql: `INSERT INTO spool_jobs (id, type, queue, payload, status, priority, effective_priority, attempts, max_attempts, run_at, created_at, started_at, finished_at, worker_id, history)
        VALUES (1, 't', 'default', 'null', 'completed', 0, 0, 2, 3, 0, 0, 10, 20, 'w', :history)`,
      args: { history },
    });
    expect(await migrate(db, () => 2)).toEqual(MIGRATIONS.slice(1).map((m) => m.version));
    const store = await Store.open({ url, connect }, systemClock);
    cleanups.unshift(() => store.close());
    expect((await store.getJob("1"))!.history.map((a) => [a.attempt, a.outcome])).toEqual([[1, "failed"], [2, "completed"]]);
  });

  it("rebuilds the jobs table in version 3 with every row, index and trigger it had", async () => {
    const { url } = setup();
    const db = await open(url);
    await db.execute("CREATE TABLE spool_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    await db.batch([...MIGRATIONS[0]!.statements, ...MIGRATIONS[1]!.statements, { sql: "INSERT INTO spool_migrations VALUES (1, 'v1', 1), (2, 'v2', 1)" }]);
    await db.execute(`INSERT INTO spool_jobs (id, type, queue, payload, status, priority, effective_priority, attempts, max_attempts,
        run_at, created_at, started_at, finished_at, lease_token, lease_expires_at, worker_id, idempotency_key, idempotency_held, workflow_id, schedule_name, scheduled_for)
      VALUES (7, 'a', 'default', '{"n":1}', 'pending', 0, 0, 0, 3, 5, 5, NULL, NULL, NULL, NULL, NULL, 'k', 1, 'wf', NULL, NULL),
             (8, 'b', 'mail', '[1]', 'running', 10, 10, 1, 3, 5, 5, 6, NULL, 'tok', 99, 'w', NULL, NULL, NULL, 'nightly', 5),
             (9, 'a', 'default', 'null', 'dead', 0, 0, 3, 3, 5, 5, 6, 7, 'tok', NULL, 'w', NULL, NULL, NULL, NULL, NULL)`);
    const objects = "SELECT type, name FROM sqlite_schema WHERE tbl_name = 'spool_jobs' AND name NOT LIKE 'sqlite_%' ORDER BY name";
    const before = { rows: (await db.execute("SELECT * FROM spool_jobs ORDER BY id")).rows, objects: (await db.execute(objects)).rows };
    expect(await migrate(db, () => 3)).toEqual(MIGRATIONS.slice(2).map((m) => m.version));
    // version 4 adds a column (0 on every kept row) and redefines the ready index under its old name;
    // later migrations add columns, indexes and triggers, and none of what was there is lost
    const after = (await db.execute("SELECT * FROM spool_jobs ORDER BY id")).rows;
    expect(after.map((row) => row.options_from_type)).toEqual([0, 0, 0]);
    expect(after.map((row, i) => Object.fromEntries(Object.keys(before.rows[i]!).map((k) => [k, row[k]])))).toEqual(before.rows);
    expect((await db.execute(objects)).rows).toEqual(expect.arrayContaining(before.objects));
    const ready = await db.execute("SELECT sql FROM sqlite_schema WHERE name = 'spool_jobs_ready'");
    expect(String(ready.rows[0]!.sql)).toContain("(type, effective_priority DESC, run_at, id, queue) WHERE status = 'pending'");
    // the rules hold as before
    await expect(db.execute("UPDATE spool_jobs SET status = 'lost' WHERE id = 7")).rejects.toThrow(/CHECK constraint failed/);
    await expect(db.execute("UPDATE spool_jobs SET status = 'completed' WHERE id = 7")).rejects.toThrow(/CHECK constraint failed/);
    // a new job gets the next id after the largest one kept
    const inserted = await db.execute(`INSERT INTO spool_jobs (type, queue, payload, status, priority, effective_priority, max_attempts, run_at, created_at)
      VALUES ('a', 'default', 'null', 'pending', 0, 0, 1, 5, 5) RETURNING id`);
    expect(Number(inserted.rows[0]!.id)).toBe(10);
  });

  it("puts a file database in WAL mode so processes can share it", async () => {
    const { url } = setup();
    const db = await open(url);
    const mode = await db.execute("PRAGMA journal_mode");
    expect(String(mode.rows[0]!.journal_mode)).toBe("wal");
  });

  it("is safe when several connections migrate the same new file at once", async () => {
    const { url } = setup();
    const dbs = await Promise.all([1, 2, 3, 4].map(() => open(url)));
    const results = await Promise.all(dbs.map((db) => migrate(db, () => 5)));
    // each migration is applied by exactly one of them
    expect(results.flat().sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.version));
    const ledger = await dbs[0]!.execute("SELECT count(*) AS n FROM spool_migrations");
    expect(Number(ledger.rows[0]!.n)).toBe(MIGRATIONS.length);
  });

  it("is safe when several processes start on the same new file at once", async () => {
    const { url, dir } = setup();
    const script = `${dir}/migrate-once.mjs`;
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      script,
      `import { createSpool } from ${JSON.stringify(new URL("../../dist/index.js", import.meta.url).href)};\n` +
        `const spool = await createSpool({ url: ${JSON.stringify(url)} });\n` +
        `await spool.enqueue("probe", { pid: process.pid });\nawait spool.close();\nconsole.log("migrated");\n`,
    );
    const [node] = runtimeCommand("node", { ts: "", js: "dist/index.js" });
    const procs = [1, 2, 3].map(() => startProcess(node, [script]));
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes, procs.map((p) => p.output()).join("\n")).toEqual([0, 0, 0]);
    const db = await open(url);
    const jobs = await db.execute("SELECT count(*) AS n FROM spool_jobs");
    expect(Number(jobs.rows[0]!.n)).toBe(3);
    const ledger = await db.execute("SELECT count(*) AS n FROM spool_migrations");
    expect(Number(ledger.rows[0]!.n)).toBe(MIGRATIONS.length);
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.at(-1)!.version);
  });

  it("rebuilds the jobs table for workflows keeping every row, and every index and trigger whichever migration made it", async () => {
    const { url } = setup();
    const db = await open(url);
    await db.execute("CREATE TABLE spool_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    const upToWorkflows = MIGRATIONS.filter((m) => m.rebuildJobs === undefined && m.version < 5);
    await db.batch([
      ...upToWorkflows.flatMap((m) => m.statements),
      ...upToWorkflows.map((m) => ({ sql: "INSERT INTO spool_migrations VALUES (?, ?, 1)", args: [m.version, m.name] })),
    ]);
    // an index of another migration, which the rebuild cannot know by name
    await db.execute("CREATE INDEX spool_jobs_other ON spool_jobs (queue, id) WHERE status = 'pending'");
    await db.execute(`INSERT INTO spool_jobs (id, type, queue, payload, status, priority, effective_priority, max_attempts, run_at, created_at)
      VALUES (3, 'a', 'default', '{"n":1}', 'pending', 0, 0, 3, 5, 5)`);
    const objects = "SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = 'spool_jobs' AND type <> 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
    const before = (await db.execute(objects)).rows;
    expect(await migrate(db, () => 6)).toEqual(MIGRATIONS.filter((m) => !upToWorkflows.includes(m)).map((m) => m.version));
    // migration 7 redefines the active indexes under their names; everything else is as it was
    const redefined = ["spool_jobs_ready", "spool_jobs_due", "spool_jobs_leases", "spool_jobs_blocked"];
    const after = (await db.execute(objects)).rows;
    expect(after).toEqual(expect.arrayContaining(before.filter((o) => !redefined.includes(String(o.name)))));
    expect(after.filter((o) => redefined.includes(String(o.name))).map((o) => o.name).sort()).toEqual([...redefined].sort());
    expect((await db.execute("SELECT id, payload, status FROM spool_jobs")).rows).toEqual([{ id: 3, payload: '{"n":1}', status: "pending" }]);
    await db.execute("UPDATE spool_jobs SET status = 'blocked' WHERE id = 3");
    await expect(db.execute("UPDATE spool_jobs SET status = 'waiting' WHERE id = 3")).rejects.toThrow(/CHECK constraint failed/);
  });
});
