/**
 * Starting real worker processes: the same commands a user types, on the
 * runtime of choice, with logs captured and exits awaited.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

export type RuntimeName = "node" | "bun" | "deno";

export const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..");
const BIN = join(ROOT, "node_modules", ".bin");

/** The runtime this test file runs on. */
export function currentRuntime(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return g.Deno ? "deno" : g.Bun ? "bun" : "node";
}

/**
 * The Node binary for Node commands in tests: SPOOL_TEST_NODE when the matrix
 * runner sets it (so a Node 22 cell spawns Node 22 workers), else the Node
 * running this file, else `node` from PATH (under Bun and Deno).
 */
export function nodeBinary(): string {
  return process.env.SPOOL_TEST_NODE || (currentRuntime() === "node" ? process.execPath : "node");
}

/** The version of the runtime this test file runs on, as its own `--version` prints it (`v22.23.5`, `1.4.5`, `2.9.6`). */
export function currentRuntimeVersion(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  return g.Deno ? g.Deno.version.deno : g.Bun ? g.Bun.version : process.version;
}

/** Command and arguments that run `script` (a .ts under src/, or dist/ for node) on `runtime`. */
export function runtimeCommand(runtime: RuntimeName, script: { ts: string; js: string }): [string, string[]] {
  switch (runtime) {
    case "node":
      if (!existsSync(join(ROOT, script.js))) throw new Error(`${script.js} is missing: run npm run build first`);
      return [nodeBinary(), [join(ROOT, script.js)]];
    case "bun":
      return [join(BIN, "bun"), [join(ROOT, script.ts)]];
    case "deno":
      return [join(BIN, "deno"), ["run", "-A", join(ROOT, script.ts)]];
  }
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface RunningProcess {
  /** The child's process id. */
  pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name when killed by one). */
  exited: Promise<number | string>;
  /** Resolves when the output contains `text`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

interface DenoChild {
  pid: number;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<{ code: number; signal: string | null }>;
  kill(signal?: string): void;
}
interface DenoApi {
  Command: new (command: string, options: Record<string, unknown>) => { spawn(): DenoChild };
}

/**
 * Spawns a process with piped output. On Deno this uses Deno.Command, because
 * Deno's node:child_process reports a child that handled SIGTERM and exited 0
 * as killed by the signal.
 */
export function startProcess(command: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): RunningProcess {
  const env = { ...process.env, NO_COLOR: "1", ...options.env } as Record<string, string>;
  const cwd = options.cwd ?? ROOT;
  let output = "";
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const onData = (chunk: string) => {
    output += chunk;
    for (const w of [...waiters]) {
      if (output.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  let pid: number;
  let exited: Promise<number | string>;
  let kill: (signal: NodeJS.Signals) => void;
  let done = false;
  const deno = (globalThis as { Deno?: DenoApi }).Deno;
  if (deno) {
    const child = new deno.Command(command, { args, cwd, env, clearEnv: true, stdin: "null", stdout: "piped", stderr: "piped" }).spawn();
    pid = child.pid;
    for (const stream of [child.stdout, child.stderr]) {
      const decoder = new TextDecoder();
      void stream.pipeTo(new WritableStream<Uint8Array>({ write: (chunk) => onData(decoder.decode(chunk, { stream: true })) }));
    }
    exited = child.status.then((s) => ((done = true), s.signal ?? s.code));
    kill = (signal) => {
      if (!done) {
        try {
          child.kill(signal);
        } catch {
          // already gone
        }
      }
    };
  } else {
    const child: ChildProcess = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    pid = child.pid ?? -1;
    child.stdout!.on("data", (chunk: Buffer) => onData(chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => onData(chunk.toString()));
    exited = new Promise<number | string>((resolveExit) => {
      child.on("exit", (code, signal) => ((done = true), resolveExit(code ?? signal ?? -1)));
    });
    kill = (signal) => {
      if (!done && child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
  }
  return {
    pid,
    output: () => output,
    exited,
    waitForOutput(text, timeoutMs = 30_000) {
      if (output.includes(text)) return Promise.resolve();
      return new Promise((resolveWait, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" in output after ${timeoutMs} ms:\n${output}`)), timeoutMs);
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolveWait();
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`process exited (${code}) before printing "${text}":\n${output}`));
        });
      });
    },
    kill(signal = "SIGTERM") {
      kill(signal);
    },
  };
}

/** Starts the worker (`src/worker.ts`, or `dist/worker.js` on node) and waits until it is ready. */
export async function startWorker(runtime: RuntimeName, env: Record<string, string>): Promise<RunningProcess> {
  const [command, args] = runtimeCommand(runtime, { ts: "src/worker.ts", js: "dist/worker.js" });
  const proc = startProcess(command, args, { env });
  // under the 60 s test timeout, so a worker that never gets ready fails with its own output
  await proc.waitForOutput("spool worker ready", 30_000);
  return proc;
}
