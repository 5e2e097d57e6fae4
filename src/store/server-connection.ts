/**
 * A connection to a libSQL server (sqld, Turso) over Hrana on HTTP, with the
 * same `execute`/`batch` shape as @libsql/client. It uses only fetch, so both
 * entry points (and every edge runtime) can load it.
 *
 * It exists because @libsql/client's batch leaves the promises of its BEGIN,
 * COMMIT and later steps unawaited once one step fails: when the server aborts
 * a transaction (TRANSACTION_TIMEOUT) those promises reject with nobody
 * listening, and Node ends the process for an unhandled rejection. Here every
 * step's promise is awaited, so a failed batch is one rejection the caller sees.
 */
import * as hrana from "@libsql/hrana-client";
import { isReadOnly } from "./read-only.ts";
import type { BatchMode, Connection, QueryResult, Row, SqlArgs, SqlStatement } from "./connection.ts";

export interface ServerConnectionOptions {
  authToken?: string;
  /** The fetch every request goes through (the caller's timeout lives there). */
  fetch: (request: Request) => Promise<Response>;
  /** Write batches sent at once at most; later ones wait their turn in this process. */
  writesInFlight: number;
}

export class ServerConnection implements Connection {
  readonly #url: string;
  readonly #options: ServerConnectionOptions;
  #client: hrana.HttpClient;
  #closed = false;
  readonly #writeGate: Gate;
  /** The stream writes go through, kept across them (see #writeStream). */
  #kept: { stream: hrana.HttpStream; usedAt: number } | null = null;

  /** `url` is a `libsql:`, `http(s):` or `ws(s):` URL; every one is spoken to over HTTP. */
  constructor(url: string, options: ServerConnectionOptions) {
    this.#url = httpUrl(url);
    this.#options = options;
    this.#client = this.#open();
    this.#writeGate = new Gate(options.writesInFlight);
  }

  #open(): hrana.HttpClient {
    const client = hrana.openHttp(this.#url, this.#options.authToken, this.#options.fetch);
    client.intMode = "number";
    return client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs one statement in one request; one that may write waits for the write gate. */
  execute(statement: SqlStatement): Promise<QueryResult> {
    if (isReadOnly(statement)) return this.#execute(statement);
    return this.#writeGate.run(() => this.#execute(statement));
  }

  async #execute(statement: SqlStatement): Promise<QueryResult> {
    const kept = !isReadOnly(statement);
    const stream = kept ? this.#writeStream() : this.#stream();
    // queued before the close, so both go in one request
    const rows = stream.query(toStmt(statement));
    if (!kept) stream.closeGracefully();
    try {
      const result = toResult(await rows);
      if (kept) this.#keep(stream);
      return result;
    } catch (error) {
      if (kept) this.#drop(stream);
      throw withCode(error);
    }
  }

  /**
   * Writes go through a kept stream, taken by one write at a time (others
   * open their own): each new stream costs the server a connection of its
   * own, a millisecond of its CPU per request on loopback, a third of a whole
   * claim-and-complete round trip. A stream idle for a while is replaced
   * before the server expires it, and one that failed is never used again.
   */
  #writeStream(): hrana.HttpStream {
    const kept = this.#kept;
    if (kept !== null && Date.now() - kept.usedAt < KEPT_STREAM_IDLE_MS) {
      this.#kept = null;
      return kept.stream;
    }
    if (kept !== null) {
      this.#kept = null;
      kept.stream.closeGracefully();
    }
    return this.#stream();
  }

  #keep(stream: hrana.HttpStream): void {
    if (this.#closed || stream.closed) return;
    this.#kept = { stream, usedAt: Date.now() };
  }

  #drop(stream: hrana.HttpStream): void {
    if (!stream.closed) stream.close();
  }

  /** Runs the statements in one transaction in one request: BEGIN IMMEDIATE for "write", BEGIN DEFERRED otherwise. */
  async batch(statements: SqlStatement[], mode: BatchMode = "write"): Promise<QueryResult[]> {
    if (mode !== "write") return this.#batch(statements, mode);
    return this.#writeGate.run(() => this.#batch(statements, mode));
  }

  async #batch(statements: SqlStatement[], mode: BatchMode): Promise<QueryResult[]> {
    // asked of the server once, then remembered by the client
    const version = await this.#client.getVersion();
    const kept = mode === "write";
    const stream = kept ? this.#writeStream() : this.#stream();
    try {
      const results = await this.#batchOn(stream, version, statements, mode, kept);
      if (kept) this.#keep(stream);
      return results;
    } catch (error) {
      if (kept) this.#drop(stream);
      throw error;
    }
  }

  async #batchOn(stream: hrana.HttpStream, version: number, statements: SqlStatement[], mode: BatchMode, kept: boolean): Promise<QueryResult[]> {
    const batch = stream.batch(false);
    const begin = batch.step();
    const steps: Array<Promise<unknown>> = [begin.run(mode === "write" ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")];
    // From protocol 3 on, a step also checks that the transaction is still open:
    // a statement that failed and made SQLite roll back must not let the rest run in autocommit.
    const afterOk = (step: hrana.BatchStep) => {
      const next = batch.step().condition(hrana.BatchCond.ok(step));
      if (version >= 3) next.condition(hrana.BatchCond.not(hrana.BatchCond.isAutocommit(batch)));
      return next;
    };
    let last = begin;
    const queries = statements.map((statement) => {
      const step = afterOk(last);
      last = step;
      const rows = step.query(toStmt(statement));
      steps.push(rows);
      return rows;
    });
    const commit = afterOk(last);
    steps.push(commit.run("COMMIT"));
    steps.push(batch.step().condition(hrana.BatchCond.not(hrana.BatchCond.ok(commit))).run("ROLLBACK"));
    // Every step's failure is observed here, and reported once below: when the
    // request itself fails the steps may reject later, or never settle at all.
    for (const step of steps) step.catch(() => undefined);
    const sent = batch.execute();
    if (!kept) stream.closeGracefully();
    try {
      await sent;
    } catch (error) {
      throw withCode(error);
    }
    const settled = await Promise.allSettled(steps);
    const failed = settled.slice(0, -1).find((s) => s.status === "rejected");
    if (failed) throw withCode((failed as PromiseRejectedResult).reason);
    const results: QueryResult[] = [];
    for (let i = 0; i < queries.length; i++) {
      const rows = (settled[i + 1] as PromiseFulfilledResult<hrana.RowsResult | undefined>).value;
      if (rows === undefined) {
        throw Object.assign(new Error("TRANSACTION_CLOSED: statement in a batch was not run: the transaction was rolled back"), {
          code: "TRANSACTION_CLOSED",
        });
      }
      results.push(toResult(rows));
    }
    const committed = (settled[settled.length - 2] as PromiseFulfilledResult<unknown>).value;
    if (committed === undefined) {
      throw Object.assign(new Error("TRANSACTION_CLOSED: the server did not commit the batch"), { code: "TRANSACTION_CLOSED" });
    }
    return results;
  }

  #stream(): hrana.HttpStream {
    if (this.#closed) throw Object.assign(new Error("CLIENT_CLOSED: the database connection is closed"), { code: "CLIENT_CLOSED" });
    return this.#client.openStream();
  }

  /** Opens a fresh HTTP client; requests in flight on the old one finish there. */
  reconnect(): void {
    this.#kept?.stream.close();
    this.#kept = null;
    const old = this.#client;
    this.#client = this.#open();
    old.close();
  }

  close(): void {
    this.#closed = true;
    this.#kept?.stream.closeGracefully();
    this.#kept = null;
    this.#client.close();
  }
}

// sqld forgets a stream idle for 10 s or more; a kept one is replaced well before.
const KEPT_STREAM_IDLE_MS = 3000;

/** At most `limit` tasks at once; the rest start in arrival order. */
class Gate {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // the slot passes straight to the next waiter, so the count stays right
      if (next) next();
      else this.#running--;
    }
  }
}

/** libsql: speaks HTTPS unless `?tls=0`; ws(s): URLs name the same server, which answers Hrana over HTTP on the same port. */
function httpUrl(url: string): string {
  const parsed = new URL(url);
  const tls = parsed.searchParams.get("tls");
  const scheme = parsed.protocol;
  parsed.search = "";
  parsed.hash = "";
  const secure = scheme === "https:" || scheme === "wss:" || (scheme === "libsql:" && tls !== "0");
  return `${secure ? "https" : "http"}://${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
}

function toStmt(statement: SqlStatement): hrana.Stmt {
  if (typeof statement === "string") return new hrana.Stmt(statement);
  const stmt = new hrana.Stmt(statement.sql);
  const args: SqlArgs = statement.args ?? [];
  if (Array.isArray(args)) stmt.bindIndexes(args as hrana.InValue[]);
  else for (const name in args) stmt.bindName(name, args[name] as hrana.InValue);
  return stmt;
}

function toResult(rows: hrana.RowsResult): QueryResult {
  return {
    rows: rows.rows as unknown as Row[],
    rowsAffected: rows.affectedRowCount,
    lastInsertRowid: rows.lastInsertRowid,
  };
}

/** The server's error code (SQLITE_BUSY, TRANSACTION_TIMEOUT, ...) as `code`, and first in the message, as @libsql/client reports it. */
function withCode(error: unknown): unknown {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === "string" ? e.code : undefined;
  if (code && typeof e.message === "string" && !e.message.startsWith(code)) {
    try {
      e.message = `${code}: ${e.message}`;
    } catch {
      // a frozen error keeps its own message
    }
  }
  return error;
}
