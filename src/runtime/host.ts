/**
 * The process the worker runs in: environment, identity, signals, exit. Every
 * difference between Node, Bun and Deno sits here, detected once.
 */
import { hostname } from "node:os";
import process from "node:process";

interface DenoSignals {
  addSignalListener(signal: string, handler: () => void): void;
}
const deno = (globalThis as { Deno?: DenoSignals }).Deno;

/** Which runtime this is. */
export const runtimeName: "deno" | "bun" | "node" = deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
    ? "bun"
    : "node";

/** A snapshot of the environment variables. */
export function readEnvironment(): Record<string, string | undefined> {
  return { ...process.env };
}

export function processId(): number {
  return process.pid;
}

export function hostName(): string {
  try {
    return hostname();
  } catch {
    return "localhost";
  }
}

export function currentDirectory(): string {
  return process.cwd();
}

/**
 * Calls `handler` on SIGTERM and SIGINT. Runtimes that start the worker as a
 * child (`bun run`, `deno task`) may deliver one signal twice, so the handler
 * must be idempotent.
 */
export function onShutdownSignal(handler: (signal: string) => void): void {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    if (deno) deno.addSignalListener(signal, () => handler(signal));
    else process.on(signal, () => handler(signal));
  }
}

export function exitProcess(code: number): never {
  process.exit(code);
}
