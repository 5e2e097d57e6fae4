import { describe, expect, it } from "vitest";
import { filePath, isDatabaseUrl } from "../../src/core/database-url.ts";
import { ensureDatabaseFolder } from "../../src/runtime/files.ts";
import { loadConfig } from "../../src/config.ts";
import { Database } from "../../src/store/database.ts";
import { systemClock } from "../../src/core/clock.ts";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

describe("database URLs", () => {
  it("accepts the schemes libSQL opens and :memory:, and nothing else", () => {
    for (const url of ["file:x.db", "libsql://db.example.com", "http://127.0.0.1:8080", "https://x", "ws://x", "wss://x", ":memory:"]) {
      expect(isDatabaseUrl(url)).toBe(true);
    }
    for (const url of ["postgres://x", "x.db", "", "memory", "ftp://x"]) expect(isDatabaseUrl(url)).toBe(false);
  });

  it("refuses the same URLs in the worker's environment and when the store opens them", async () => {
    expect(() => loadConfig({ SPOOL_DATABASE_URL: "postgres://x" })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
    const connect = () => Promise.reject(new Error("a refused URL must not be opened"));
    await expect(Database.open({ url: "postgres://x", connect }, systemClock)).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    expect(loadConfig({ SPOOL_DATABASE_URL: ":memory:" }).databaseUrl).toBe(":memory:");
  });

  it("reads a file: URL's path the way @libsql/client does, and refuses a host with a SpoolError", () => {
    expect(filePath("file:data/spool.db")).toBe("data/spool.db");
    expect(filePath("file:///var/lib/spool.db")).toBe("/var/lib/spool.db");
    expect(filePath("file://localhost/var/lib/my%20spool.db")).toBe("/var/lib/my spool.db");
    expect(filePath("file:spool.db?tls=0#x")).toBe("spool.db");
    expect(filePath("file::memory:")).toBe(":memory:");
    expect(() => filePath("file://db.example.com/spool.db")).toThrow(
      expect.objectContaining({ name: "SpoolError", code: "INVALID_CONFIG", message: expect.stringContaining('"db.example.com"') }),
    );
  });

  it("creates the folder of a file: database through the same parser, %-escapes decoded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spool-url-"));
    try {
      await ensureDatabaseFolder(`file://${join(dir, "my%20data", "spool.db")}`);
      expect(existsSync(join(dir, "my data"))).toBe(true);
      expect(existsSync(join(dir, "my%20data"))).toBe(false);
      await ensureDatabaseFolder("file::memory:");
      await ensureDatabaseFolder("libsql://db.example.com");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
