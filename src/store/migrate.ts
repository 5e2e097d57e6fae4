/**
 * Brings a database up to the newest schema. Safe when several processes start
 * at once: each migration is one write batch (all its statements plus the row
 * recording it), so it applies whole or not at all; a process that loses the
 * race sees its batch fail, re-reads the version, and finds the work done.
 */
import type { Database } from "./database.ts";
import { MIGRATIONS } from "./schema.ts";

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
      await db.batch(
        [...migration.statements, { sql: RECORD, args: [migration.version, migration.name, now()] }],
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

/** The newest version this build knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
