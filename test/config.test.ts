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
      leaseMs: 30_000,
      queues: undefined,
      logLevel: "info",
      maxJsonDepth: 64,
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
        SPOOL_LEASE_MS: "5000",
        SPOOL_QUEUES: "mail, billing",
        SPOOL_LOG_LEVEL: "debug",
        SPOOL_MAX_JSON_DEPTH: "128",
      }),
    ).toEqual({
      databaseUrl: "libsql://db.example.turso.io",
      authToken: "secret",
      jobsModule: "./jobs.ts",
      port: 9000,
      hostname: "0.0.0.0",
      concurrency: 50,
      leaseMs: 5000,
      queues: ["mail", "billing"],
      logLevel: "debug",
      maxJsonDepth: 128,
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
    expect(() => loadConfig({ SPOOL_MAX_JSON_DEPTH: "0" })).toThrow(/SPOOL_MAX_JSON_DEPTH="0"/);
    expect(() => loadConfig({ SPOOL_MAX_JSON_DEPTH: "deep" })).toThrow(/SPOOL_MAX_JSON_DEPTH/);
  });
});
