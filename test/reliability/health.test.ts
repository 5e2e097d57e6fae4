/**
 * GET /health (spool.health()) says 503, with the reason, when the worker
 * cannot do its work: the database does not answer, reading the jobs table
 * fails, or its services have been failing to write for seconds. And a worker
 * refuses to start on a damaged file.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import { createHandler } from "../../src/http/handler.ts";
import { createSpool } from "../../src/index.ts";
import { FAILING_UNHEALTHY_MS, type HealthReport } from "../../src/spool.ts";
import { capFile, corruptRootPage, fillUp, uncapFile } from "../support/damage.ts";
import { currentRuntime, freePort, runtimeCommand, startProcess } from "../support/processes.ts";
import { openSpool, tempDatabase, waitFor } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function health(app: ReturnType<typeof createHandler>): Promise<{ status: number; body: HealthReport }> {
  const response = await app.fetch(new Request("http://127.0.0.1/health"));
  return { status: response.status, body: (await response.json()) as HealthReport };
}

/** The system clock, moved forward on demand, so a test need not wait out FAILING_UNHEALTHY_MS. */
function skewedClock(): Clock & { advance(ms: number): void } {
  let skew = 0;
  return { now: () => Date.now() + skew, sleep: systemClock.sleep, advance: (ms) => (skew += ms) };
}

describe("GET /health", () => {
  it("answers 200 with every service's failure tracking while all is well", async () => {
    const { spool, cleanup } = await openSpool();
    cleanups.push(cleanup);
    const worker = await spool.start({ http: false });
    cleanups.unshift(() => worker.stop({ graceMs: 0 }));
    const { status, body } = await health(createHandler(spool));
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ok", database: "ok", reason: null });
    expect(body.services.map((s) => s.service)).toEqual(expect.arrayContaining(["producer", "completer", "promoter", "cron", "reaper"]));
    expect(body.services.every((s) => !s.failing && s.since === null)).toBe(true);
  });

  it("answers 503 naming the cause when the database does not answer", async () => {
    const { spool, cleanup } = await openSpool();
    cleanups.push(cleanup);
    storeOf(spool).close();
    const { status, body } = await health(createHandler(spool));
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: "unavailable", database: "unreachable", reason: expect.stringContaining("does not answer") });
  });

  it("answers 503 when reading the jobs table fails on a corrupt page, as the other routes do", async () => {
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    const writer = await createSpool({ url: db.url });
    for (let i = 0; i < 20; i++) await writer.enqueue("kept", { i });
    await writer.close();
    corruptRootPage(db.path, "spool_jobs");
    const spool = await createSpool({ url: db.url });
    cleanups.unshift(() => spool.close());
    const app = createHandler(spool);
    const { status, body } = await health(app);
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: "unavailable", database: "unreadable", reason: expect.stringContaining("reading the jobs table fails") });
    expect(body.reason).toContain("corrupt");
    expect((await app.fetch(new Request("http://127.0.0.1/jobs/1"))).status).toBe(503);
  });

  it("answers 503 with the service's last error and since when once writes have failed for seconds (disk full), and 200 after", async () => {
    const clock = skewedClock();
    const { spool, cleanup } = await openSpool({ clock });
    cleanups.push(cleanup);
    // a follow-up job that cannot fit into the full file: it is written with the completion
    spool.define("filler", (_payload, ctx) => {
      ctx.enqueue("follow-up", { pad: "f".repeat(8000) });
    });
    spool.define("follow-up", () => {});
    await capFile(spool, 4);
    const queued = await fillUp(spool);
    const worker = await spool.start({ http: false, minPollMs: 5, maxPollMs: 50 });
    cleanups.unshift(() => worker.stop({ graceMs: 0 }));
    const app = createHandler(spool);

    const failing = await waitFor("a service to fail writing", async () => (await spool.health()).services.find((s) => s.failing));
    expect(failing.lastError).toContain("no room to write");
    // failing for a moment is not yet unhealthy: a lock or a checkpoint may cause that
    expect((await health(app)).status).toBe(200);

    clock.advance(FAILING_UNHEALTHY_MS + 1000);
    const { status, body } = await health(app);
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: "unavailable", database: "ok", reason: expect.stringContaining(`the ${failing.service} has been failing for`) });
    const reported = body.services.find((s) => s.service === failing.service)!;
    expect(reported).toMatchObject({ failing: true, since: failing.since, lastError: expect.stringContaining("no room to write") });

    await uncapFile(spool);
    await waitFor("health to recover", async () => (await health(app)).status === 200);
    await waitFor("every job to complete", async () => (await spool.countJobs()).completed === 2 * queued);
    const after = await health(app);
    expect(after.body.services.find((s) => s.service === failing.service)).toMatchObject({ failing: false, since: null, lastError: expect.stringContaining("no room to write") });
  });
});

describe("a worker process on a damaged file", () => {
  it("exits non-zero at startup with DATABASE_CORRUPT naming the file", async () => {
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    const writer = await createSpool({ url: db.url });
    for (let i = 0; i < 20; i++) await writer.enqueue("kept", { i });
    await writer.close();
    corruptRootPage(db.path, "spool_jobs");
    const [command, args] = runtimeCommand(currentRuntime(), { ts: "src/worker.ts", js: "dist/worker.js" });
    const worker = startProcess(command, args, {
      env: { SPOOL_DATABASE_URL: db.url, SPOOL_PORT: String(await freePort()), SPOOL_HOSTNAME: "127.0.0.1" },
    });
    cleanups.unshift(() => worker.kill("SIGKILL"));
    const code = await worker.exited;
    expect(code).not.toBe(0);
    expect(worker.output()).toContain(`database file ${db.path} is corrupt`);
    expect(worker.output()).toContain("DATABASE_CORRUPT");
    expect(worker.output()).not.toContain("spool worker ready");
  });
});
