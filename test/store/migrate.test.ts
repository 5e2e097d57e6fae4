import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import { Database } from "../../src/store/database.ts";
import { LATEST_SCHEMA_VERSION, migrate } from "../../src/store/migrate.ts";
import { MIGRATIONS } from "../../src/store/schema.ts";
import { Store } from "../../src/store/store.ts";
import { runtimeCommand, startProcess } from "../support/processes.ts";
import { tempDatabase } from "../support/system.ts";

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
  const db = await Database.open({ url }, systemClock);
  cleanups.unshift(() => db.close());
  return db;
}

describe("migrate", () => {
  it("applies every migration once and does nothing the second time", async () => {
    const { url } = setup();
    const db = await open(url);
    expect(await migrate(db, () => 1)).toEqual([...Array(LATEST_SCHEMA_VERSION)].map((_, i) => i + 1));
    expect(await migrate(db, () => 2)).toEqual([]);
    const ledger = await db.execute("SELECT version, applied_at FROM spool_migrations");
    expect(ledger.rows.map((r) => [Number(r.version), Number(r.applied_at)])).toEqual([[1, 1], [2, 1]]);
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
    expect(await migrate(db, () => 2)).toEqual([2]);
    const store = await Store.open({ url }, systemClock);
    cleanups.unshift(() => store.close());
    expect((await store.getJob("1"))!.history.map((a) => [a.attempt, a.outcome])).toEqual([[1, "failed"], [2, "completed"]]);
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
    expect(results.flat().sort()).toEqual([...Array(LATEST_SCHEMA_VERSION)].map((_, i) => i + 1));
    const ledger = await dbs[0]!.execute("SELECT count(*) AS n FROM spool_migrations");
    expect(Number(ledger.rows[0]!.n)).toBe(LATEST_SCHEMA_VERSION);
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
    expect(Number(ledger.rows[0]!.n)).toBe(LATEST_SCHEMA_VERSION);
  });
});
