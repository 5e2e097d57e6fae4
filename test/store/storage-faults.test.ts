/**
 * Storage faults reach callers as SpoolErrors with stable codes, never as raw
 * SQLite errors or HTTP 500: a file at its size limit is STORAGE_FULL (507), a
 * damaged file DATABASE_CORRUPT (503), and a worker refuses to start on a
 * damaged file. Real files, really full or really damaged.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SpoolError } from "../../src/core/errors.ts";
import { createHandler } from "../../src/http/handler.ts";
import { createSpool } from "../../src/index.ts";
import { capFile, corruptRootPage, fillUp } from "../support/damage.ts";
import { openSpool, tempDatabase } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function get(app: ReturnType<typeof createHandler>, path: string, init: RequestInit = {}) {
  return app.fetch(new Request(`http://127.0.0.1${path}`, init));
}

describe("a full database", () => {
  it("refuses writes with STORAGE_FULL in the library and 507 over HTTP, and keeps answering reads", async () => {
    const { spool, cleanup } = await openSpool();
    cleanups.push(cleanup);
    await capFile(spool, 4);
    const fitted = await fillUp(spool);
    const error = await spool.enqueue("filler", { pad: "p".repeat(1000) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect(error).toMatchObject({ code: "STORAGE_FULL", message: expect.stringContaining("no room to write") });

    const app = createHandler(spool);
    const response = await get(app, "/jobs", { method: "POST", body: JSON.stringify({ type: "filler", payload: { pad: "p".repeat(1000) } }), headers: { "content-type": "application/json" } });
    expect(response.status).toBe(507);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("STORAGE_FULL");
    const stats = await get(app, "/stats");
    expect(stats.status).toBe(200);
    expect(((await stats.json()) as { counts: { pending: number } }).counts.pending).toBe(fitted);
  });
});

describe("a corrupt database file", () => {
  async function corruptFile(): Promise<{ path: string; url: string; ids: string[] }> {
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    const spool = await createSpool({ url: db.url });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await spool.enqueue("kept", { i })).id);
    await spool.close();
    corruptRootPage(db.path, "spool_jobs");
    return { path: db.path, url: db.url, ids };
  }

  it("answers reads of the damaged table with DATABASE_CORRUPT in the library and 503 over HTTP, not 500", async () => {
    const { url, ids } = await corruptFile();
    const spool = await createSpool({ url });
    cleanups.unshift(() => spool.close());
    await expect(spool.getJob(ids[0]!)).rejects.toMatchObject({ code: "DATABASE_CORRUPT", message: expect.stringContaining("corrupt") });
    await expect(spool.listJobs({ status: "pending" })).rejects.toBeInstanceOf(SpoolError);
    const app = createHandler(spool);
    for (const path of ["/jobs?status=pending", `/jobs/${ids[0]}`]) {
      const response = await get(app, path);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("DATABASE_CORRUPT");
    }
  });

  it("makes spool.start refuse with DATABASE_CORRUPT naming the file, after PRAGMA quick_check", async () => {
    const { path, url } = await corruptFile();
    const spool = await createSpool({ url });
    cleanups.unshift(() => spool.close());
    const error = await spool.start({ http: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect(error).toMatchObject({ code: "DATABASE_CORRUPT", message: expect.stringContaining(`database file ${path} is corrupt`) });
  });

  it("lets spool.start through on a sound file", async () => {
    const { spool, cleanup } = await openSpool();
    cleanups.push(cleanup);
    await spool.enqueue("kept", null);
    expect(await storeOf(spool).quickCheck(256 * 1024 * 1024, "sound")).toBe(true);
    const worker = await spool.start({ http: false });
    await worker.stop({ graceMs: 0 });
  });
});
