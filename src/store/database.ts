/**
 * The one libSQL connection a Spool holds, with the settings that make a local
 * file safe to share between processes and the retry that waits out another
 * process's write lock.
 */
import type { Client } from "@libsql/client";
import type { Clock } from "../core/clock.ts";
import { DATABASE_URL_SCHEMES, isDatabaseUrl } from "../core/database-url.ts";
import { SpoolError } from "../core/errors.ts";
import type { BatchMode, Connection, QueryResult, SqlStatement } from "./connection.ts";
import { filePath } from "./file-path.ts";
import { isReadOnly } from "./read-only.ts";

/** What opening a connection needs besides its URL. */
export interface ConnectionSettings {
  authToken?: string;
  /** How long SQLite itself waits for another process's lock on a file. */
  busyTimeoutMs: number;
  /** fetch for a server, giving up after the request timeout. */
  fetch: (request: Request) => Promise<Response>;
  /** Write transactions sent to a server at once at most, per connection. */
  writesInFlight: number;
}

/**
 * Opens a connection for a URL no client was given for. Each entry point
 * brings its own, so that only the main one can load the native file driver.
 */
export type ConnectionOpener = (url: string, settings: ConnectionSettings) => Connection | Promise<Connection>;

export interface DatabaseOptions {
  /** `file:path`, `:memory:`, `libsql://...`, `http(s)://...` or `ws(s)://...`. */
  url: string;
  authToken?: string;
  /** How long one statement keeps retrying while another process holds the lock. Default 60 s. */
  busyRetryMs?: number;
  /** A client you configured yourself (embedded replica, custom fetch, instrumentation); `url` still names it. */
  client?: Client;
  /**
   * Names the file now at a path (null when there is none). Given, a file
   * database checks that its file is still there before it reads or writes.
   */
  fileIdentity?: (path: string) => Promise<string | null>;
  /** How long a request to a libSQL server may go unanswered before it fails. Default 30 s. */
  requestTimeoutMs?: number;
  /** Opens the connection when no `client` is given. */
  connect: ConnectionOpener;
}

// how often a healthy file database looks at its file; a missing one is looked at on every use
const FILE_CHECK_EVERY_MS = 500;

// SQLite's own busy handler blocks the JavaScript thread while it waits, and
// sleeps 1 ms at least, twice as long as a busy worker holds the lock. So a
// file connection does not wait natively at all: a locked BEGIN is retried
// here, at once on the next turns of the event loop and then with backoff,
// while this process's other work goes on.
const NATIVE_BUSY_TIMEOUT_MS = 0;
const RETRIES_WITHOUT_DELAY = 10;
// A request to a libSQL server that gets no answer (a half-open connection, a
// server that hangs) would otherwise hold its caller forever: the producer
// would claim nothing again. It fails instead, and the caller retries.
const REQUEST_TIMEOUT_MS = 30_000;
// One write transaction in flight per process on a server: sqld runs writes
// one at a time anyway, and every extra one waiting there holds a slot in its
// write-lock queue and can time out there (TRANSACTION_TIMEOUT) instead of
// waiting its turn here. Measured in the README's server section.
const SERVER_WRITES_IN_FLIGHT = 1;
const WAL_CHECKPOINT_PAGES = 10_000;

export class Database {
  readonly url: string;
  readonly isLocalFile: boolean;
  readonly #client: Connection;
  readonly #clock: Clock;
  readonly #busyRetryMs: number;
  readonly #fileIdentity: ((path: string) => Promise<string | null>) | null;
  /** A client the caller passed in: it may keep failed statements alive (see #dropFailedStatements). */
  readonly #passedIn: boolean;
  #reconnects = 0;
  #lastWriteAt: number | null = null;
  /** The file this connection opened, as `fileIdentity` named it. */
  #openedFile: string | null = null;
  #fileCheckedAt = -Infinity;
  #fileMissing = false;

  private constructor(
    url: string,
    client: Connection,
    passedIn: boolean,
    clock: Clock,
    busyRetryMs: number,
    fileIdentity: DatabaseOptions["fileIdentity"],
  ) {
    this.url = url;
    this.isLocalFile = url.startsWith("file:");
    this.#client = client;
    this.#passedIn = passedIn;
    this.#clock = clock;
    this.#busyRetryMs = busyRetryMs;
    this.#fileIdentity = this.#isFileOnDisk ? (fileIdentity ?? null) : null;
  }

  /** Opens the database; throws INVALID_CONFIG for a URL libSQL cannot use. */
  static async open(options: DatabaseOptions, clock: Clock): Promise<Database> {
    const url = options.url === ":memory:" ? "file::memory:" : options.url;
    if (!isDatabaseUrl(url)) {
      throw new SpoolError("INVALID_CONFIG", `database url ${JSON.stringify(options.url)} must start with ${DATABASE_URL_SCHEMES}`);
    }
    let client: Connection;
    try {
      // One connection to a file: PRAGMAs reach every statement, and libSQL
      // runs file statements synchronously, so more would not add speed.
      client = options.client
        ? (options.client as unknown as Connection)
        : await options.connect(url, {
            authToken: options.authToken,
            busyTimeoutMs: NATIVE_BUSY_TIMEOUT_MS,
            fetch: fetchWithin(options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, options.url),
            writesInFlight: SERVER_WRITES_IN_FLIGHT,
          });
    } catch (error) {
      if (error instanceof SpoolError) throw error;
      throw new SpoolError("DATABASE_UNAVAILABLE", `cannot open database ${JSON.stringify(options.url)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const db = new Database(url, client, options.client !== undefined, clock, options.busyRetryMs ?? 60_000, options.fileIdentity);
    if (db.#fileIdentity) db.#openedFile = await db.#fileIdentity(filePath(url));
    if (db.#isFileOnDisk) await db.#retryWhileBusy(() => db.#configureConnection());
    return db;
  }

  get #isFileOnDisk(): boolean {
    return this.isLocalFile && this.url !== "file::memory:";
  }

  /**
   * WAL lets processes share the file; WAL with NORMAL survives a process crash
   * with every commit, and only an OS crash or power loss may drop the last
   * commits, never corrupt the file. journal_mode is stored in the file,
   * synchronous is per connection, so a new connection needs this again.
   */
  async #configureConnection(): Promise<void> {
    await this.#client.execute("PRAGMA journal_mode = WAL");
    await this.#client.execute("PRAGMA synchronous = NORMAL");
    // Checkpoints (copying the WAL back into the file) are half of what a
    // busy worker's commits cost at SQLite's default of 1,000 pages; at
    // 10,000 (a WAL of up to about 40 MB) a commit took about 30% less time.
    await this.#client.execute(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  }

  async execute(statement: SqlStatement): Promise<QueryResult> {
    const result = await this.#retryWhileBusy(() => this.#client.execute(statement));
    if (!isReadOnly(statement)) this.#lastWriteAt = this.#clock.now();
    return result;
  }

  /** Runs the statements in one transaction (BEGIN IMMEDIATE for "write"). */
  async batch(statements: SqlStatement[], mode: BatchMode = "write"): Promise<QueryResult[]> {
    const results = await this.#retryWhileBusy(() => this.#client.batch(statements, mode));
    if (mode === "write") this.#lastWriteAt = this.#clock.now();
    return results;
  }

  /**
   * Milliseconds since a write transaction last committed through this
   * connection, or null before the first. On a server, a value that keeps
   * growing while reads still work means writes are stuck there.
   */
  lastWriteAgoMs(): number | null {
    return this.#lastWriteAt === null ? null : Math.max(0, this.#clock.now() - this.#lastWriteAt);
  }

  close(): void {
    this.#client.close();
  }

  get closed(): boolean {
    return this.#client.closed;
  }

  // Through @libsql/client (a client passed in), libsql (0.5) leaves a
  // statement that failed with SQLITE_BUSY active until it is
  // garbage-collected; while it lives, every COMMIT on the connection fails
  // with "cannot commit transaction - SQL statements in progress", and a batch
  // reported failed can still be committed later. A fresh connection leaves
  // the failed statement behind. Our own FileConnection never lets a write
  // meet the lock outside BEGIN IMMEDIATE, so it needs none of this. Memory
  // databases are never busy.
  async #dropFailedStatements(): Promise<void> {
    if (!this.#isFileOnDisk || !this.#passedIn) return;
    this.#reconnects++;
    await this.#client.reconnect();
    try {
      await this.#configureConnection();
    } catch {
      // another caller reconnected meanwhile, and applies it itself
    }
  }

  /**
   * Throws DATABASE_UNAVAILABLE while the opened file is gone from its path
   * (deleted, or moved away): writes would land in a file nobody will read.
   * A file at the path again is used: the same one as before as it is, a
   * different one (a restored copy) through a fresh connection.
   */
  async #checkFile(): Promise<void> {
    if (!this.#fileIdentity) return;
    const now = this.#clock.now();
    if (!this.#fileMissing && now - this.#fileCheckedAt < FILE_CHECK_EVERY_MS) return;
    this.#fileCheckedAt = now;
    const path = filePath(this.url);
    const current = await this.#fileIdentity(path);
    if (current === null) {
      this.#fileMissing = true;
      throw new SpoolError("DATABASE_UNAVAILABLE", `database file ${path} is gone (deleted or moved away); waiting for it to come back`);
    }
    if (current !== this.#openedFile) {
      this.#reconnects++;
      await this.#client.reconnect();
      await this.#configureConnection();
      this.#openedFile = current;
    }
    this.#fileMissing = false;
  }

  async #retryWhileBusy<T>(operation: () => Promise<T>): Promise<T> {
    try {
      await this.#checkFile();
    } catch (error) {
      throw storageError(error);
    }
    const deadline = this.#clock.now() + this.#busyRetryMs;
    let retries = 0;
    let wait = 1;
    for (;;) {
      const reconnects = this.#reconnects;
      try {
        return await operation();
      } catch (error) {
        // a reconnect for another caller closed the connection before this operation ran a statement
        const closedUnderUs = (error as { code?: unknown })?.code === "CLIENT_CLOSED" && !this.#client.closed && this.#reconnects !== reconnects;
        if (!closedUnderUs && !isBusy(error)) throw storageError(error);
        if (!closedUnderUs) await this.#dropFailedStatements();
        if (this.#clock.now() + wait > deadline) {
          throw new SpoolError("DATABASE_BUSY", `database ${this.url} stayed locked by another process for ${this.#busyRetryMs} ms`, {
            cause: error,
          });
        }
        if (++retries <= RETRIES_WITHOUT_DELAY) {
          await this.#clock.sleep(0);
        } else {
          await this.#clock.sleep(wait);
          wait = Math.min(wait * 2, 50);
        }
      }
    }
  }
}

/**
 * `PRAGMA quick_check` on a local file of at most `maxBytes` (page_count x
 * page_size): throws DATABASE_CORRUPT naming `name` and what SQLite found when
 * the file is damaged. Returns true when it checked, false when it skipped a
 * server database, a memory database or a larger file.
 */
export async function quickCheck(db: Database, maxBytes: number, name: string): Promise<boolean> {
  if (!db.isLocalFile || db.url === "file::memory:") return false;
  let findings: string[];
  try {
    const [pages] = (await db.execute("PRAGMA page_count")).rows;
    const [size] = (await db.execute("PRAGMA page_size")).rows;
    if (Number(pages?.page_count ?? 0) * Number(size?.page_size ?? 0) > maxBytes) return false;
    findings = (await db.execute("PRAGMA quick_check")).rows.map((row) => String(Object.values(row)[0]));
  } catch (error) {
    const mapped = storageError(error);
    if (!(mapped instanceof SpoolError) || mapped.code !== "DATABASE_CORRUPT") throw mapped;
    findings = [(error as Error).message];
  }
  if (findings.length === 1 && findings[0] === "ok") return true;
  const shown = findings.slice(0, 3).join("; ") + (findings.length > 3 ? `; and ${findings.length - 3} more` : "");
  throw new SpoolError("DATABASE_CORRUPT", `database file ${name} is corrupt (quick_check: ${shown}); restore it from a backup`);
}

/**
 * A database error that says the storage itself failed, as the SpoolError
 * callers can act on: SQLITE_FULL (disk full, or the file at its size limit)
 * becomes STORAGE_FULL, SQLITE_CORRUPT and SQLITE_NOTADB become
 * DATABASE_CORRUPT, SQLITE_IOERR and SQLITE_CANTOPEN become
 * DATABASE_UNAVAILABLE. Any other error comes back as it was. Messages leave
 * out the file's path: they may reach an HTTP answer.
 */
export function storageError(error: unknown): unknown {
  if (error instanceof SpoolError) return error;
  const e = error as { code?: unknown; extendedCode?: unknown; message?: unknown };
  const code = [e?.code, e?.extendedCode].map((c) => String(c ?? "")).find((c) => c.startsWith("SQLITE_")) ?? "";
  const detail = typeof e?.message === "string" ? e.message : String(error);
  if (code.startsWith("SQLITE_FULL")) {
    return new SpoolError("STORAGE_FULL", `the database has no room to write (${detail}); free disk space or raise its size limit`, { cause: error });
  }
  if (code.startsWith("SQLITE_CORRUPT") || code.startsWith("SQLITE_NOTADB")) {
    return new SpoolError("DATABASE_CORRUPT", `the database file is corrupt (${detail}); restore it from a backup`, { cause: error });
  }
  if (code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_CANTOPEN")) {
    return new SpoolError("DATABASE_UNAVAILABLE", `the database cannot be read or written (${detail})`, { cause: error });
  }
  return error;
}

/** SQLITE_BUSY and SQLITE_LOCKED mean "someone else holds the lock": nothing ran, retrying is safe. */
export function isBusy(error: unknown): boolean {
  const e = error as { code?: unknown; extendedCode?: unknown; message?: unknown; cause?: unknown };
  const codes = [e?.code, e?.extendedCode].map((c) => String(c ?? ""));
  if (codes.some((c) => c.startsWith("SQLITE_BUSY") || c.startsWith("SQLITE_LOCKED"))) return true;
  return typeof e?.message === "string" && /database is locked|database table is locked|SQLITE_BUSY/.test(e.message);
}

/**
 * fetch for the server connection: gives up after `ms` without an answer, and
 * asks for uncompressed answers. A compressed answer cost the client about
 * 2.3 ms of CPU per request whatever its size (a decompressor set up per
 * response), half of a whole claim-and-complete round trip on loopback;
 * Spool's answers are small, so the bytes saved across a network are few.
 */
function fetchWithin(ms: number, url: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const headers = new Headers(request.headers);
    headers.set("accept-encoding", "identity");
    try {
      return await fetch(request, { signal: AbortSignal.timeout(ms), headers });
    } catch (error) {
      if ((error as { name?: unknown })?.name === "TimeoutError") {
        throw new SpoolError("DATABASE_UNAVAILABLE", `database ${url} did not answer within ${ms} ms`, { cause: error });
      }
      throw error;
    }
  };
}
