/**
 * What Spool needs of a database connection, and the shapes of what goes in
 * and comes out: the local file's FileConnection and a libSQL server's
 * ServerConnection both implement it, as does an @libsql/client Client.
 */

/** A result row, by column name. */
export type Row = Record<string, unknown>;

/** What one statement gives back. */
export interface QueryResult {
  rows: Row[];
  /** Rows changed by a statement that returns no rows (0 for one that does, as in @libsql/client). */
  rowsAffected: number;
  /** After an INSERT that returns no rows: the rowid of its last row. */
  lastInsertRowid?: number | bigint;
}

/** Bound values, by name (`:name`) or by position. */
export type SqlArgs = Record<string, unknown> | unknown[];
/**
 * SQL text alone, or with its bound values. `onlyIf` names an earlier
 * statement of the same batch by index: this one runs only when that one
 * returned a row (a row whose `column` is not null, when given), and is
 * otherwise skipped with an empty result. A connection that cannot skip (a
 * libSQL server's, an @libsql/client Client) runs it anyway, so such a
 * statement must do nothing when its condition fails: the condition saves
 * work, it never decides what happens.
 */
export type SqlStatement = string | { sql: string; args?: SqlArgs; onlyIf?: StatementCondition };

/** See SqlStatement. */
export interface StatementCondition {
  at: number;
  column?: string;
}

/** How a batch's transaction begins: "write" takes the write lock at once (BEGIN IMMEDIATE). */
export type BatchMode = "write" | "read" | "deferred";

/** What Spool needs of a connection; an @libsql/client `Client` has the same shape. */
export interface Connection {
  execute(statement: SqlStatement): Promise<QueryResult>;
  batch(statements: SqlStatement[], mode?: BatchMode): Promise<QueryResult[]>;
  reconnect(): Promise<void> | void;
  close(): void;
  readonly closed: boolean;
}
