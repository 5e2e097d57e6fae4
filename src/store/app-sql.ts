/**
 * Your own SQL on the Spool's database (`spool.sql`): for a jobs module that
 * keeps its own tables (orders, stock) beside the queue, on the same file or
 * server. It goes through the Spool's one connection, so it shares what makes
 * that connection safe: WAL on a file, the retry that waits out another
 * process's write lock, and storage errors mapped to SpoolError codes. A
 * fresh client of your own on the same file would start with no busy
 * timeout and fail at once while a worker writes.
 */
import { SpoolError } from "../core/errors.ts";
import type { Database } from "./database.ts";
import type { Row, SqlArgs } from "./connection.ts";

export type { Row, SqlArgs };

/** One statement with its bound arguments (positional `?` or named `:name`). */
export interface SqlQuery {
  sql: string;
  args?: SqlArgs;
}

/** What a statement returned. */
export interface SqlResult {
  rows: Row[];
  /** Rows changed by a statement that returns no rows (0 for one that does). */
  rowsAffected: number;
}

/** The narrow executor `spool.sql` returns. */
export interface SqlExecutor {
  /** Runs one statement (a write in its own transaction). */
  execute(sql: string, args?: SqlArgs): Promise<SqlResult>;
  /** Runs the statements in one write transaction, all or none; results in order. */
  batch(statements: SqlQuery[]): Promise<SqlResult[]>;
}

// Spool's own tables (spool_jobs, spool_schedules, ...) change only through
// its operations, which keep their invariants; a statement naming one is refused.
const SPOOL_TABLE = /\bspool_\w+/i;

function checked(statement: SqlQuery, where: string): SqlQuery {
  if (typeof statement?.sql !== "string" || statement.sql.trim() === "") {
    throw new SpoolError("INVALID_OPTIONS", `${where}: sql must be a non-empty string, got ${JSON.stringify(statement?.sql)}`);
  }
  const table = SPOOL_TABLE.exec(statement.sql);
  if (table) {
    throw new SpoolError("INVALID_OPTIONS", `${where}: ${table[0]} is one of Spool's own tables; use the Spool's operations for it`);
  }
  return statement.args === undefined ? { sql: statement.sql } : { sql: statement.sql, args: statement.args };
}

/** An executor over `db` that refuses statements naming Spool's own tables. */
export function appSql(db: Database): SqlExecutor {
  const result = ({ rows, rowsAffected }: SqlResult): SqlResult => ({ rows, rowsAffected });
  return {
    async execute(sql, args) {
      return result(await db.execute(checked({ sql, args }, "spool.sql.execute")));
    },
    async batch(statements) {
      if (!Array.isArray(statements)) throw new SpoolError("INVALID_OPTIONS", "spool.sql.batch needs an array of { sql, args }");
      const queries = statements.map((s, i) => checked(s, `spool.sql.batch[${i}]`));
      return (await db.batch(queries, "write")).map(result);
    },
  };
}
