/**
 * Brings a database up to the newest schema. Safe when several processes start
 * at once: each migration runs under BEGIN IMMEDIATE and re-reads the version
 * inside it, so a process that waited for the lock finds the work done.
 */
import type { Database } from "./database.ts";
import { MIGRATIONS } from "./schema.ts";

/** Applies every missing migration; returns the versions this call applied. */
export async function migrate(db: Database, now: () => number): Promise<number[]> {
  await db.execute(
    `CREATE TABLE IF NOT EXISTS spool_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
  );
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    const ran = await db.transaction(async (tx) => {
      const found = await tx.execute({ sql: "SELECT 1 FROM spool_migrations WHERE version = ?", args: [migration.version] });
      if (found.rows.length > 0) return false;
      for (const sql of migration.statements) await tx.execute(sql);
      await tx.execute({
        sql: "INSERT INTO spool_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        args: [migration.version, migration.name, now()],
      });
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  return applied;
}

/** The newest version this build knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
