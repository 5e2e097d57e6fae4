/**
 * The worker process's configuration: SPOOL_* environment variables turned
 * into validated options in one place. A bad value fails at startup with a
 * message naming the variable.
 */
import { DATABASE_URL_SCHEMES, isDatabaseUrl } from "./core/database-url.ts";
import { DEFAULT_CONCURRENCY, DEFAULT_DATABASE_URL, DEFAULT_HOSTNAME, DEFAULT_LEASE_MS, DEFAULT_PORT } from "./core/defaults.ts";
import { SpoolError } from "./core/errors.ts";
import { type LogLevel, isLogLevel } from "./core/logger.ts";
import { tokenProblem } from "./http/access.ts";
import { parseOrigin } from "./http/cross-site.ts";
import { isHostEntry, isLoopbackHostname } from "./http/host.ts";
import { MIN_TRIGGER_SECRET_LENGTH } from "./http/trigger.ts";

export interface WorkerConfig {
  databaseUrl: string;
  authToken: string | undefined;
  jobsModule: string | undefined;
  port: number;
  hostname: string;
  concurrency: number;
  /** SPOOL_PREFETCH: jobs claimed ahead of free slots while jobs are short, 0-10000 (0: off). Unset: the start option's default, 32 × concurrency. */
  prefetch: number | undefined;
  leaseMs: number;
  queues: string[] | undefined;
  logLevel: LogLevel;
  /** SPOOL_MAX_JSON_DEPTH: deepest nesting of a payload, 1-1000. Default 64. */
  maxJsonDepth: number;
  /** SPOOL_RETENTION_MS: completed jobs older than this are deleted; 0 keeps them. Default 7 days. */
  retentionMs: number;
  /** SPOOL_API_TOKEN: every route but GET /health and GET /metrics needs it. */
  apiToken: string | undefined;
  /** SPOOL_API_READ_TOKEN: reads every GET route, refused every mutation. */
  readToken: string | undefined;
  /** SPOOL_METRICS_TOKEN: GET /metrics needs it when set. */
  metricsToken: string | undefined;
  /** SPOOL_ALLOWED_HOSTS: Host names answered besides the loopback ones. */
  allowedHosts: string[] | undefined;
  /** SPOOL_CORS_ORIGINS: origins whose pages may call the API. */
  corsOrigins: string[] | undefined;
  /** SPOOL_ALLOW_UNAUTHENTICATED: bind a non-loopback address without SPOOL_API_TOKEN. */
  allowUnauthenticated: boolean;
  /** SPOOL_TRIGGER_SECRET, then SPOOL_TRIGGER_SECRET_NEXT: secrets a signed POST /drain may use instead of the token. */
  triggerSecrets: string[] | undefined;
}

export { DEFAULT_DATABASE_URL };

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
  if (!isDatabaseUrl(databaseUrl)) {
    bad("SPOOL_DATABASE_URL", databaseUrl, `expected a ${DATABASE_URL_SCHEMES} URL`);
  }
  const logLevel = env.SPOOL_LOG_LEVEL?.trim() || "info";
  if (!isLogLevel(logLevel)) bad("SPOOL_LOG_LEVEL", logLevel, "expected debug, info, warn, error or silent");
  const hostname = env.SPOOL_HOSTNAME?.trim() || DEFAULT_HOSTNAME;
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(hostname)) bad("SPOOL_HOSTNAME", hostname, "expected a host name or IP address");
  const queuesRaw = env.SPOOL_QUEUES?.trim();
  const queues = queuesRaw ? queuesRaw.split(",").map((q) => q.trim()).filter((q) => q.length > 0) : undefined;
  if (queuesRaw && queues!.length === 0) bad("SPOOL_QUEUES", queuesRaw, "expected a comma-separated list of queue names");
  const apiToken = token(env, "SPOOL_API_TOKEN");
  const readToken = token(env, "SPOOL_API_READ_TOKEN");
  if (readToken !== undefined && apiToken === undefined) {
    throw new SpoolError("INVALID_CONFIG", "SPOOL_API_READ_TOKEN is set without SPOOL_API_TOKEN: set both (without an API token every route is open anyway)");
  }
  if (readToken !== undefined && readToken === apiToken) {
    throw new SpoolError("INVALID_CONFIG", "SPOOL_API_READ_TOKEN must differ from SPOOL_API_TOKEN");
  }
  const allowUnauthenticatedRaw = env.SPOOL_ALLOW_UNAUTHENTICATED?.trim() || "false";
  if (allowUnauthenticatedRaw !== "true" && allowUnauthenticatedRaw !== "false") {
    bad("SPOOL_ALLOW_UNAUTHENTICATED", allowUnauthenticatedRaw, "expected true or false");
  }
  const allowUnauthenticated = allowUnauthenticatedRaw === "true";
  if (apiToken === undefined && !isLoopbackHostname(hostname) && !allowUnauthenticated) {
    throw new SpoolError(
      "INVALID_CONFIG",
      `SPOOL_HOSTNAME=${JSON.stringify(hostname)} is not a loopback address and SPOOL_API_TOKEN is not set: anyone who reaches the port ` +
        "could run, retry and cancel jobs. Set SPOOL_API_TOKEN, bind SPOOL_HOSTNAME=127.0.0.1, or set SPOOL_ALLOW_UNAUTHENTICATED=true",
    );
  }
  const allowedHosts = list(env, "SPOOL_ALLOWED_HOSTS", (entry) => (isHostEntry(entry) ? entry.toLowerCase() : null), "host names, IP addresses or name:port");
  const corsOrigins = list(env, "SPOOL_CORS_ORIGINS", parseOrigin, "origins like https://app.example");
  const triggerSecrets = [secret(env, "SPOOL_TRIGGER_SECRET"), secret(env, "SPOOL_TRIGGER_SECRET_NEXT")].filter((s) => s !== undefined);
  if (triggerSecrets.length === 1 && env.SPOOL_TRIGGER_SECRET_NEXT && !env.SPOOL_TRIGGER_SECRET) {
    throw new SpoolError("INVALID_CONFIG", "SPOOL_TRIGGER_SECRET_NEXT is set without SPOOL_TRIGGER_SECRET: set the current secret too");
  }
  return {
    databaseUrl,
    authToken: env.SPOOL_AUTH_TOKEN || undefined,
    jobsModule: env.SPOOL_JOBS?.trim() || undefined,
    port: integer(env, "SPOOL_PORT", DEFAULT_PORT, 0, 65535),
    hostname,
    concurrency: integer(env, "SPOOL_CONCURRENCY", DEFAULT_CONCURRENCY, 1, 10_000),
    prefetch: env.SPOOL_PREFETCH === undefined || env.SPOOL_PREFETCH === "" ? undefined : integer(env, "SPOOL_PREFETCH", 0, 0, 10_000),
    leaseMs: integer(env, "SPOOL_LEASE_MS", DEFAULT_LEASE_MS, 100, 24 * 60 * 60 * 1000),
    queues,
    logLevel,
    maxJsonDepth: integer(env, "SPOOL_MAX_JSON_DEPTH", 64, 1, 1000),
    retentionMs: integer(env, "SPOOL_RETENTION_MS", 7 * 24 * 60 * 60 * 1000, 0, Number.MAX_SAFE_INTEGER),
    apiToken,
    readToken,
    metricsToken: token(env, "SPOOL_METRICS_TOKEN"),
    allowedHosts,
    corsOrigins,
    allowUnauthenticated,
    triggerSecrets: triggerSecrets.length > 0 ? triggerSecrets : undefined,
  };
}

function secret(env: Record<string, string | undefined>, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  // the value itself is a secret: the message names only the variable
  if (raw.length < MIN_TRIGGER_SECRET_LENGTH) {
    throw new SpoolError("INVALID_CONFIG", `${name} is too short: use ${MIN_TRIGGER_SECRET_LENGTH} characters or more (e.g. openssl rand -hex 32)`);
  }
  return raw;
}

function token(env: Record<string, string | undefined>, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const problem = tokenProblem(raw);
  // the value itself is a secret: the message names only the variable
  if (problem !== null) throw new SpoolError("INVALID_CONFIG", `${name} is unusable: ${problem}`);
  return raw;
}

/** A comma-separated list, each entry checked (and normalised) by `parse`. */
function list(env: Record<string, string | undefined>, name: string, parse: (entry: string) => string | null, expected: string): string[] | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const entries = raw.split(",").map((e) => e.trim()).filter((e) => e.length > 0);
  if (entries.length === 0) bad(name, raw, `expected a comma-separated list of ${expected}`);
  return entries.map((entry) => parse(entry) ?? bad(name, raw, `${JSON.stringify(entry)} is not one of ${expected}`));
}
