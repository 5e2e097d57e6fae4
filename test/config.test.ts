import { describe, expect, it } from "vitest";
import { DEFAULT_DATABASE_URL, loadConfig } from "../src/config.ts";

describe("loadConfig", () => {
  it("uses the documented defaults for an empty environment", () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: DEFAULT_DATABASE_URL,
      authToken: undefined,
      jobsModule: undefined,
      port: 8787,
      hostname: "127.0.0.1",
      concurrency: 10,
      prefetch: undefined,
      leaseMs: 30_000,
      queues: undefined,
      logLevel: "info",
      maxJsonDepth: 64,
      retentionMs: 7 * 24 * 60 * 60 * 1000,
      apiToken: undefined,
      readToken: undefined,
      metricsToken: undefined,
      allowedHosts: undefined,
      corsOrigins: undefined,
      allowUnauthenticated: false,
      triggerSecrets: undefined,
    });
    expect(DEFAULT_DATABASE_URL).toBe("file:./data/spool.db");
  });

  it("reads every SPOOL_ variable", () => {
    expect(
      loadConfig({
        SPOOL_DATABASE_URL: "libsql://db.example.turso.io",
        SPOOL_AUTH_TOKEN: "secret",
        SPOOL_JOBS: "./jobs.ts",
        SPOOL_PORT: "9000",
        SPOOL_HOSTNAME: "0.0.0.0",
        SPOOL_CONCURRENCY: "50",
        SPOOL_PREFETCH: "0",
        SPOOL_LEASE_MS: "5000",
        SPOOL_QUEUES: "mail, billing",
        SPOOL_LOG_LEVEL: "debug",
        SPOOL_MAX_JSON_DEPTH: "128",
        SPOOL_RETENTION_MS: "0",
        SPOOL_API_TOKEN: "admin-token-0123456789",
        SPOOL_API_READ_TOKEN: "read-token-0123456789",
        SPOOL_METRICS_TOKEN: "metrics-token-0123456789",
        SPOOL_ALLOWED_HOSTS: "Spool.Example.com, 10.0.0.5:9000",
        SPOOL_CORS_ORIGINS: "https://ops.example.com, http://localhost:5173/",
        SPOOL_ALLOW_UNAUTHENTICATED: "false",
        SPOOL_TRIGGER_SECRET: "trigger-secret-current-0123",
        SPOOL_TRIGGER_SECRET_NEXT: "trigger-secret-next-0123456",
      }),
    ).toEqual({
      databaseUrl: "libsql://db.example.turso.io",
      authToken: "secret",
      jobsModule: "./jobs.ts",
      port: 9000,
      hostname: "0.0.0.0",
      concurrency: 50,
      prefetch: 0,
      leaseMs: 5000,
      queues: ["mail", "billing"],
      logLevel: "debug",
      maxJsonDepth: 128,
      retentionMs: 0,
      apiToken: "admin-token-0123456789",
      readToken: "read-token-0123456789",
      metricsToken: "metrics-token-0123456789",
      allowedHosts: ["spool.example.com", "10.0.0.5:9000"],
      corsOrigins: ["https://ops.example.com", "http://localhost:5173"],
      allowUnauthenticated: false,
      triggerSecrets: ["trigger-secret-current-0123", "trigger-secret-next-0123456"],
    });
  });

  it("names the variable and the value when one is bad", () => {
    expect(() => loadConfig({ SPOOL_PORT: "eighty" })).toThrow(/SPOOL_PORT="eighty" is invalid/);
    expect(() => loadConfig({ SPOOL_PORT: "70000" })).toThrow(/SPOOL_PORT/);
    expect(() => loadConfig({ SPOOL_CONCURRENCY: "0" })).toThrow(/SPOOL_CONCURRENCY="0"/);
    expect(() => loadConfig({ SPOOL_CONCURRENCY: "2.5" })).toThrow(/SPOOL_CONCURRENCY/);
    expect(() => loadConfig({ SPOOL_DATABASE_URL: "postgres://x" })).toThrow(/SPOOL_DATABASE_URL="postgres:\/\/x"/);
    expect(() => loadConfig({ SPOOL_LOG_LEVEL: "loud" })).toThrow(/SPOOL_LOG_LEVEL/);
    expect(() => loadConfig({ SPOOL_LEASE_MS: "-1" })).toThrow(/SPOOL_LEASE_MS/);
    expect(() => loadConfig({ SPOOL_PREFETCH: "-1" })).toThrow(/SPOOL_PREFETCH="-1"/);
    expect(() => loadConfig({ SPOOL_PREFETCH: "lots" })).toThrow(/SPOOL_PREFETCH="lots"/);
    expect(() => loadConfig({ SPOOL_MAX_JSON_DEPTH: "0" })).toThrow(/SPOOL_MAX_JSON_DEPTH="0"/);
    expect(() => loadConfig({ SPOOL_MAX_JSON_DEPTH: "deep" })).toThrow(/SPOOL_MAX_JSON_DEPTH/);
    expect(() => loadConfig({ SPOOL_RETENTION_MS: "-5" })).toThrow(/SPOOL_RETENTION_MS="-5"/);
    expect(() => loadConfig({ SPOOL_RETENTION_MS: "7d" })).toThrow(/SPOOL_RETENTION_MS/);
    expect(() => loadConfig({ SPOOL_ALLOW_UNAUTHENTICATED: "yes" })).toThrow(/SPOOL_ALLOW_UNAUTHENTICATED="yes"/);
    expect(() => loadConfig({ SPOOL_ALLOWED_HOSTS: "spool.example.com, http://x/" })).toThrow(/SPOOL_ALLOWED_HOSTS=.*"http:\/\/x\/" is not/);
    expect(() => loadConfig({ SPOOL_CORS_ORIGINS: "*" })).toThrow(/SPOOL_CORS_ORIGINS="\*"/);
    expect(() => loadConfig({ SPOOL_TRIGGER_SECRET: "short" })).toThrow(/SPOOL_TRIGGER_SECRET is too short/);
    expect(() => loadConfig({ SPOOL_TRIGGER_SECRET_NEXT: "trigger-secret-next-0123456" })).toThrow(/SPOOL_TRIGGER_SECRET_NEXT is set without SPOOL_TRIGGER_SECRET/);
    expect(() => loadConfig({ SPOOL_CORS_ORIGINS: "https://ops.example.com/path" })).toThrow(/SPOOL_CORS_ORIGINS/);
  });

  it("refuses a token that a header cannot carry, without printing the token", () => {
    let message = "";
    try {
      loadConfig({ SPOOL_API_TOKEN: "secret with spaces" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/SPOOL_API_TOKEN is unusable: it contains a space/);
    expect(message).not.toContain("secret");
  });

  it("refuses a read-only token without an API token, or equal to it", () => {
    expect(() => loadConfig({ SPOOL_API_READ_TOKEN: "read-token-0123456789" })).toThrow(/SPOOL_API_READ_TOKEN is set without SPOOL_API_TOKEN/);
    expect(() => loadConfig({ SPOOL_API_TOKEN: "same-token-0123456789", SPOOL_API_READ_TOKEN: "same-token-0123456789" })).toThrow(
      /must differ from SPOOL_API_TOKEN/,
    );
  });

  it("refuses a non-loopback SPOOL_HOSTNAME without SPOOL_API_TOKEN, naming both, unless SPOOL_ALLOW_UNAUTHENTICATED=true", () => {
    for (const hostname of ["0.0.0.0", "::", "192.168.1.20", "spool.example.com"]) {
      const attempt = () => loadConfig({ SPOOL_HOSTNAME: hostname });
      expect(attempt, hostname).toThrow(/SPOOL_HOSTNAME=.* is not a loopback address and SPOOL_API_TOKEN is not set/);
      expect(loadConfig({ SPOOL_HOSTNAME: hostname, SPOOL_ALLOW_UNAUTHENTICATED: "true" }).allowUnauthenticated).toBe(true);
      expect(loadConfig({ SPOOL_HOSTNAME: hostname, SPOOL_API_TOKEN: "admin-token-0123456789" }).hostname).toBe(hostname);
    }
    for (const hostname of ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"]) {
      expect(loadConfig({ SPOOL_HOSTNAME: hostname }).hostname).toBe(hostname);
    }
  });
});
