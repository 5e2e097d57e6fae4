/**
 * The worker process's configuration: SPOOL_* environment variables turned
 * into validated options in one place. A bad value fails at startup with a
 * message naming the variable.
 */
import { SpoolError } from "./core/errors.ts";
import { type LogLevel, isLogLevel } from "./core/logger.ts";

export interface WorkerConfig {
  databaseUrl: string;
  authToken: string | undefined;
  jobsModule: string | undefined;
  port: number;
  hostname: string;
  concurrency: number;
  leaseMs: number;
  queues: string[] | undefined;
  logLevel: LogLevel;
  /** SPOOL_MAX_JSON_DEPTH: deepest nesting of a payload, 1-1000. Default 64. */
  maxJsonDepth: number;
}

export const DEFAULT_DATABASE_URL = "file:./data/spool.db";

function bad(name: string, value: string, expected: string): never {
  throw new SpoolError("INVALID_CONFIG", `${name}=${JSON.stringify(value)} is invalid: ${expected}`);
}

function integer(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw.trim());
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    bad(name, raw, `expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** Reads and validates the worker's environment. */
export function loadConfig(env: Record<string, string | undefined>): WorkerConfig {
  const databaseUrl = env.SPOOL_DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
  if (!/^(file:|libsql:|https?:|wss?:)/.test(databaseUrl) && databaseUrl !== ":memory:") {
    bad("SPOOL_DATABASE_URL", databaseUrl, "expected a file:, libsql:, http(s): or ws(s): URL");
  }
  const logLevel = env.SPOOL_LOG_LEVEL?.trim() || "info";
  if (!isLogLevel(logLevel)) bad("SPOOL_LOG_LEVEL", logLevel, "expected debug, info, warn, error or silent");
  const hostname = env.SPOOL_HOSTNAME?.trim() || "127.0.0.1";
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(hostname)) bad("SPOOL_HOSTNAME", hostname, "expected a host name or IP address");
  const queuesRaw = env.SPOOL_QUEUES?.trim();
  const queues = queuesRaw ? queuesRaw.split(",").map((q) => q.trim()).filter((q) => q.length > 0) : undefined;
  if (queuesRaw && queues!.length === 0) bad("SPOOL_QUEUES", queuesRaw, "expected a comma-separated list of queue names");
  return {
    databaseUrl,
    authToken: env.SPOOL_AUTH_TOKEN || undefined,
    jobsModule: env.SPOOL_JOBS?.trim() || undefined,
    port: integer(env, "SPOOL_PORT", 8787, 0, 65535),
    hostname,
    concurrency: integer(env, "SPOOL_CONCURRENCY", 10, 1, 10_000),
    leaseMs: integer(env, "SPOOL_LEASE_MS", 30_000, 100, 24 * 60 * 60 * 1000),
    queues,
    logLevel,
    maxJsonDepth: integer(env, "SPOOL_MAX_JSON_DEPTH", 64, 1, 1000),
  };
}
