/**
 * Brings a database up to the newest schema. Safe when several processes start
 * at once: each migration is one write batch (all its statements plus the row
 * recording it), so it applies whole or not at all; a process that loses the
 * race sees its batch fail, re-reads the version, and finds the work done.
 */
import type { Database } from "./database.ts";
import type { SqlStatement } from "./connection.ts";
import { type Migration, MIGRATIONS } from "./schema.ts";

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS spool_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`;
const APPLIED_VERSIONS = `SELECT version FROM spool_migrations`;
const RECORD = `INSERT INTO spool_migrations (version, name, applied_at) VALUES (?, ?, ?)`;

async function appliedVersions(db: Database): Promise<Set<number>> {
  const result = await db.execute(APPLIED_VERSIONS);
  return new Set(result.rows.map((r) => Number(r.version)));
}

/** Applies every missing migration; returns the versions this call applied. */
export async function migrate(db: Database, now: () => number): Promise<number[]> {
  await db.execute(CREATE_LEDGER);
  let applied = await appliedVersions(db);
  const ran: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    try {
      const rebuild = migration.rebuildJobs ? await rebuildJobsStatements(db, migration) : [];
      await db.batch(
        [...rebuild, ...migration.statements, { sql: RECORD, args: [migration.version, migration.name, now()] }],
        "write",
      );
      ran.push(migration.version);
    } catch (error) {
      applied = await appliedVersions(db);
      if (!applied.has(migration.version)) throw error;
    }
  }
  return ran;
}

const JOBS_SCHEMA = `SELECT type, sql FROM sqlite_schema WHERE tbl_name = 'spool_jobs' AND sql IS NOT NULL ORDER BY rowid`;

/**
 * Rebuilds spool_jobs with an edited CREATE statement, bringing back the
 * indexes and triggers it has now, as read just before. If another process
 * migrates in between, this batch fails on the ledger row and the caller
 * re-reads the version, as for any migration.
 */
async function rebuildJobsStatements(db: Database, migration: Migration): Promise<SqlStatement[]> {
  const rows = (await db.execute(JOBS_SCHEMA)).rows;
  const table = rows.find((r) => r.type === "table");
  if (!table) throw new Error(`migration ${migration.version}: spool_jobs does not exist`);
  const create = migration.rebuildJobs!(String(table.sql)).replace(/^CREATE TABLE\s+("?)spool_jobs\1/, "CREATE TABLE spool_jobs_rebuilt");
  return [
    create,
    `INSERT INTO spool_jobs_rebuilt SELECT * FROM spool_jobs ORDER BY id`,
    `DROP TABLE spool_jobs`,
    `ALTER TABLE spool_jobs_rebuilt RENAME TO spool_jobs`,
    ...rows.filter((r) => r.type !== "table").map((r) => String(r.sql)),
  ];
}

/** The newest version this build knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
