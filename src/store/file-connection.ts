/**
 * A connection to a local database file through libSQL's embedded driver,
 * with the same `execute`/`batch` shape as @libsql/client. It exists for
 * speed: @libsql/client prepares every statement again on every call, which
 * cost more than running our claim and completion statements themselves.
 * Here a statement is prepared once and kept.
 */
import Libsql from "libsql";
import type { BatchMode, Connection, QueryResult, Row, SqlArgs, SqlStatement, StatementCondition } from "./connection.ts";
import { filePath } from "./file-path.ts";

export { filePath };

interface PreparedStatement {
  all(args: SqlArgs): unknown[];
  run(args: SqlArgs): { changes: number; lastInsertRowid: number | bigint };
}

interface CachedStatement {
  prepared: PreparedStatement;
  /** Asked once: the driver answers it through a native call. */
  reader: boolean;
}

// Spool's SQL is a fixed set of strings; the bound only guards against a
// caller that builds statements on the fly.
const STATEMENT_CACHE_SIZE = 256;

export class FileConnection implements Connection {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  #db: Libsql.Database | null;
  readonly #statements = new Map<string, CachedStatement>();

  /** `url` is a `file:` URL; `busyTimeoutMs` is how long SQLite itself waits for another process's lock. */
  constructor(url: string, busyTimeoutMs: number) {
    this.#path = filePath(url);
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#db = this.#open();
  }

  #open(): Libsql.Database {
    const db = new Libsql(this.#path);
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.#busyTimeoutMs))}`);
    } catch (error) {
      db.close();
      throw withCode(error);
    }
    return db;
  }

  get closed(): boolean {
    return this.#db === null;
  }

  /**
   * Runs one statement. A statement that may write runs inside BEGIN
   * IMMEDIATE ... COMMIT: then only the BEGIN can meet another process's
   * lock, and a BEGIN that failed with SQLITE_BUSY is harmless. A write that
   * returns rows (the claim's UPDATE ... RETURNING) and fails with SQLITE_BUSY
   * in autocommit mode instead stays active inside the driver, and makes
   * every later COMMIT on the connection fail (test/store/file-connection).
   */
  async execute(statement: SqlStatement): Promise<QueryResult> {
    const sql = typeof statement === "string" ? statement : statement.sql;
    if (isRead(sql)) return this.#run(statement);
    return (await this.batch([statement], "write"))[0]!;
  }

  /** Runs the statements in one transaction: BEGIN IMMEDIATE for "write", BEGIN DEFERRED otherwise. */
  async batch(statements: SqlStatement[], mode: BatchMode = "write"): Promise<QueryResult[]> {
    this.#run(mode === "write" ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    try {
      const results: QueryResult[] = [];
      for (const statement of statements) {
        const condition = typeof statement === "string" ? undefined : statement.onlyIf;
        results.push(condition === undefined || holds(condition, results) ? this.#run(statement) : { rows: [], rowsAffected: 0 });
      }
      this.#run("COMMIT");
      return results;
    } catch (error) {
      if (this.#db?.inTransaction) {
        try {
          this.#run("ROLLBACK");
        } catch {
          // the failure being reported matters more than a failed rollback; the next BEGIN would show it
        }
      }
      throw error;
    }
  }

  /** Closes and reopens the file, leaving every prepared statement (and any that a failure left active) behind. */
  reconnect(): void {
    this.#closeDatabase();
    this.#db = this.#open();
  }

  close(): void {
    this.#closeDatabase();
  }

  #closeDatabase(): void {
    this.#statements.clear();
    const db = this.#db;
    this.#db = null;
    db?.close();
  }

  #run(statement: SqlStatement): QueryResult {
    const db = this.#db;
    if (db === null) throw Object.assign(new Error("CLIENT_CLOSED: the database connection is closed"), { code: "CLIENT_CLOSED" });
    const sql = typeof statement === "string" ? statement : statement.sql;
    const args = typeof statement === "string" ? [] : bindable(statement.args ?? []);
    try {
      const { prepared, reader } = this.#prepare(db, sql);
      if (reader) return { rows: prepared.all(args) as Row[], rowsAffected: 0 };
      const info = prepared.run(args);
      return { rows: [], rowsAffected: info.changes, lastInsertRowid: info.lastInsertRowid };
    } catch (error) {
      throw withCode(error);
    }
  }

  #prepare(db: Libsql.Database, sql: string): CachedStatement {
    let cached = this.#statements.get(sql);
    if (cached) {
      // most recently used last, so the first entry is the one to evict
      this.#statements.delete(sql);
    } else {
      const statement = db.prepare(sql);
      cached = { prepared: statement as unknown as PreparedStatement, reader: statement.reader };
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.delete(this.#statements.keys().next().value!);
    }
    this.#statements.set(sql, cached);
    return cached;
  }
}

/** Whether a statement's `onlyIf` holds for the results of the batch so far. */
function holds(condition: StatementCondition, results: QueryResult[]): boolean {
  const rows = results[condition.at]?.rows ?? [];
  const { column } = condition;
  return column === undefined ? rows.length > 0 : rows.some((row) => row[column] != null);
}

const READ = /^\s*(SELECT|PRAGMA|EXPLAIN)\b/i;
const reads = new Map<string, boolean>();

/** True for statements that cannot write (a PRAGMA that sets a value is let through: it takes no write lock either). */
function isRead(sql: string): boolean {
  let read = reads.get(sql);
  if (read === undefined) {
    read = READ.test(sql);
    if (reads.size < STATEMENT_CACHE_SIZE) reads.set(sql, read);
  }
  return read;
}

/** Argument names lose their `:`/`@`/`$`; booleans become 0/1 and Dates milliseconds, as @libsql/client binds them. */
function bindable(args: SqlArgs): SqlArgs {
  if (Array.isArray(args)) return args.some(needsConversion) ? args.map(bindableValue) : args;
  const out: Record<string, unknown> = {};
  for (const name in args) {
    const bare = name[0] === ":" || name[0] === "@" || name[0] === "$" ? name.slice(1) : name;
    out[bare] = bindableValue(args[name], name);
  }
  return out;
}

function needsConversion(value: unknown): boolean {
  return typeof value === "boolean" || value === undefined || value instanceof Date;
}

function bindableValue(value: unknown, name?: string | number): unknown {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.getTime();
  if (value === undefined) throw new TypeError(`SQL argument ${String(name ?? "")} is undefined; bind null instead`);
  return value;
}

/** Messages start with the SQLite code, as @libsql/client's do, so logs read the same for either connection. */
function withCode(error: unknown): unknown {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code === "string" && typeof e.message === "string" && !e.message.startsWith(e.code)) {
    try {
      e.message = `${e.code}: ${e.message}`;
    } catch {
      // a frozen error keeps its own message
    }
  }
  return error;
}
