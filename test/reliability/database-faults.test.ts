/**
 * Database faults: another process holding the write lock, a database file
 * that stops accepting writes (made immutable with chattr +i, which binds even
 * root: real SQLITE_IOERR from the disk layer), a database file moved away
 * under a running worker and put back, a libSQL server that dies and
 * comes back, and a server URL nobody listens on. No job may fail because the
 * store failed.
 */
import { execFileSync } from "node:child_process";
import { renameSync, rmSync } from "node:fs";
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import type { Job } from "../../src/core/job.ts";
import { type Logger, createJsonLogger } from "../../src/core/logger.ts";
import { createSpool } from "../../src/index.ts";
import { currentRuntime, freePort, runtimeCommand, startProcess } from "../support/processes.ts";
import { libsqlServer } from "../support/sqld.ts";
import { deferred, openSpool, tempDatabase, waitFor } from "../support/system.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

async function setup(options: { leaseMs?: number } = {}) {
  const lines: LogLine[] = [];
  const logger: Logger = createJsonLogger("debug", (line) => lines.push(JSON.parse(line) as LogLine));
  const { spool, url, dir, cleanup } = await openSpool({ logger, workerId: "fault-worker", ...options });
  cleanups.push(cleanup);
  const path = url.slice("file:".length);
  const count = async (status: Job["status"]) => (await spool.countJobs())[status];
  const allOf = async (status: Job["status"]) => (await spool.listJobs({ status, limit: 500 })).jobs;
  return { spool, path, dir, lines, count, allOf };
}

/** Sets or clears the immutable attribute; with it no process, root included, can write the file. */
function immutable(on: boolean, ...paths: string[]): void {
  execFileSync("chattr", [on ? "+i" : "-i", ...paths]);
}

/** The error lines a service logged. */
function failuresOf(lines: LogLine[], service: string): LogLine[] {
  return lines.filter((l) => l.level === "error" && l.service === service);
}

/** One line when a service starts failing and one when it recovers, however many passes failed between. */
async function expectOneFailureAndOneRecovery(lines: LogLine[], services: string[]): Promise<void> {
  const recovery = (service: string) => lines.filter((l) => l.level === "info" && l.msg === `${service} recovered`);
  for (const service of services) {
    // a failing service retries on its own backoff, so its recovery may come a pass after the jobs finished
    await waitFor(`${service} to log its recovery`, () => recovery(service).length > 0);
    expect(failuresOf(lines, service)).toHaveLength(1);
    expect(recovery(service)).toHaveLength(1);
  }
}

describe("database faults", () => {
  it("waits out another process holding the write lock for 2 s: no job fails, all complete", async () => {
    const { spool, path, lines, count, allOf } = await setup();
    const lockHeld = deferred();
    let returned = 0;
    spool.define("work", async (payload: { n: number }) => {
      await lockHeld.promise;
      returned++;
      return payload.n;
    }, { maxAttempts: 1 });
    await spool.enqueueMany(Array.from({ length: 40 }, (_, n) => ({ type: "work", payload: { n } })));
    const runtime = await spool.start({ http: false, concurrency: 10, minPollMs: 5, maxPollMs: 50 });
    cleanups.push(() => runtime.stop({ graceMs: 0 }));
    await waitFor("10 running jobs", async () => (await count("running")) === 10);

    const [command, args] = runtimeCommand(currentRuntime(), { ts: "test/fixtures/hold-lock.mjs", js: "test/fixtures/hold-lock.mjs" });
    const locker = startProcess(command, args, { env: { LOCK_URL: `file:${path}`, LOCK_MS: "2000" } });
    cleanups.push(() => locker.kill("SIGKILL"));
    await locker.waitForOutput("locked", 60_000);
    lockHeld.resolve();
    await waitFor("the 10 running handlers to return", () => returned >= 10);
    // they returned while the lock is still held, and nothing could be claimed meanwhile
    expect(locker.output()).not.toContain("released");
    expect(returned).toBe(10);
    await locker.waitForOutput("released", 10_000);
    // none of their outcomes could be written while the lock was held
    expect(locker.output()).toContain("released completed=0");
    expect(await locker.exited).toBe(0);

    const completed = await waitFor("40 completed jobs", async () => {
      const jobs = await allOf("completed");
      return jobs.length === 40 ? jobs : null;
    });
    for (const job of completed) {
      expect(job.history.map((a) => a.outcome)).toEqual(["completed"]);
      expect(job.lastError).toBeNull();
    }
    expect(await spool.countJobs()).toEqual({ blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 40, dead: 0, cancelled: 0 });
    // SQLITE_BUSY never surfaced: no service logged a failure
    expect(lines.filter((l) => l.level === "error" || l.level === "warn")).toEqual([]);
  });

  it("keeps running while the database file refuses writes, logs each change of state once, and resumes with no job failed", async () => {
    const { spool, path, lines, count, allOf } = await setup({ leaseMs: 1000 });
    const files = [path, `${path}-wal`];
    cleanups.push(() => immutable(false, ...files));
    const faulted = deferred();
    spool.define("work", async (payload: { n: number }) => {
      await faulted.promise;
      return payload.n;
    }, { maxAttempts: 1 });
    await spool.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ type: "work", payload: { n } })));
    const runtime = await spool.start({ http: false, concurrency: 10, minPollMs: 5, maxPollMs: 50 });
    cleanups.push(() => runtime.stop({ graceMs: 0 }));
    const running = await waitFor("10 running jobs", async () => {
      const jobs = await allOf("running");
      return jobs.length === 10 ? jobs : null;
    });

    // the -shm file stays writable: it is memory-mapped, and a failed write there is SIGBUS, not an error
    immutable(true, ...files);
    faulted.resolve();
    const failure = (service: string) => failuresOf(lines, service);
    await waitFor("the completer and heartbeat to report the fault", () => failure("completer").length > 0 && failure("heartbeat").length > 0);
    // outlast every lease, so recovery must not hand the still-running jobs to the reaper
    const latestExpiry = Math.max(...running.map((j) => j.startedAt! + 1000));
    await waitFor("the leases to run out during the fault", () => Date.now() > latestExpiry + 500);
    expect(await count("running")).toBe(10);
    expect(await count("completed")).toBe(0);

    immutable(false, ...files);
    const completed = await waitFor("20 completed jobs", async () => {
      const jobs = await allOf("completed");
      return jobs.length === 20 ? jobs : null;
    });
    for (const job of completed) {
      expect(job.history.map((a) => a.outcome)).toEqual(["completed"]);
      expect(job.lastError).toBeNull();
    }
    expect(await spool.countJobs()).toEqual({ blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 20, dead: 0, cancelled: 0 });

    await expectOneFailureAndOneRecovery(lines, ["completer", "heartbeat"]);
    expect(failure("completer")[0]!.error).toMatch(/I\/O error|SQLITE_IOERR/);
    expect(lines.filter((l) => l.msg.includes("lease lost") || l.msg.includes("lease expired"))).toEqual([]);

    // and the worker goes on: a new job runs
    const after = await spool.enqueue("work", { n: 99 });
    await waitFor("a job enqueued after the fault to complete", async () => (await spool.getJob(after.id))?.status === "completed");
  });

  it("stops writing while its database file is moved away, logs the fault once, and resumes when the file is back", async () => {
    const { spool, path, lines, count, allOf } = await setup();
    const moved = deferred();
    spool.define("work", async (payload: { n: number }) => {
      await moved.promise;
      return payload.n;
    }, { maxAttempts: 1 });
    await spool.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ type: "work", payload: { n } })));
    const runtime = await spool.start({ http: false, concurrency: 10, minPollMs: 5, maxPollMs: 50 });
    cleanups.push(() => runtime.stop({ graceMs: 0 }));
    await waitFor("10 running jobs", async () => (await count("running")) === 10);

    // the open connection could go on writing into the moved file, where nobody would read it
    const awayPath = `${path}.away`;
    const files = ["", "-wal", "-shm"].map((suffix) => [`${path}${suffix}`, `${awayPath}${suffix}`] as const);
    for (const [file, away] of files) renameSync(file, away);
    const failure = (service: string) => failuresOf(lines, service);
    await waitFor("the promoter to report the missing file", () => failure("promoter").length > 0);
    expect(failure("promoter")[0]!.error).toContain(`database file ${path} is gone`);
    moved.resolve();
    await waitFor("the completer to report the missing file", () => failure("completer").length > 0);
    const away = createClient({ url: `file:${awayPath}` });
    const inMovedFile = await away.execute("SELECT status, count(*) AS n FROM spool_jobs GROUP BY status ORDER BY status");
    away.close();
    // nothing was written behind the fault: the 10 are still running there, 10 still pending
    expect(inMovedFile.rows.map((r) => [r.status, Number(r.n)])).toEqual([["pending", 10], ["running", 10]]);

    for (const [file, away] of files) renameSync(away, file);
    const completed = await waitFor("20 completed jobs", async () => {
      const jobs = await allOf("completed");
      return jobs.length === 20 ? jobs : null;
    });
    for (const job of completed) expect(job.history.map((a) => a.outcome)).toEqual(["completed"]);
    await expectOneFailureAndOneRecovery(lines, ["promoter", "completer"]);
  });

  it("waits while its database file is deleted, and carries on with a copy restored in its place", async () => {
    const { spool, path, dir, lines, count, allOf } = await setup();
    const restored = deferred();
    spool.define("work", async (payload: { n: number }) => {
      await restored.promise;
      return payload.n;
    }, { maxAttempts: 1 });
    await spool.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ type: "work", payload: { n } })));
    const runtime = await spool.start({ http: false, concurrency: 10, minPollMs: 5, maxPollMs: 50 });
    cleanups.push(() => runtime.stop({ graceMs: 0 }));
    await waitFor("10 running jobs", async () => (await count("running")) === 10);

    // a consistent copy, taken while the 10 run: the backup an operator would restore
    const backup = `${dir}/backup.db`;
    const reader = createClient({ url: `file:${path}` });
    await reader.execute({ sql: "VACUUM INTO ?", args: [backup] });
    reader.close();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
    const failure = (service: string) => failuresOf(lines, service);
    await waitFor("the promoter to report the missing file", () => failure("promoter").length > 0);

    renameSync(backup, path);
    restored.resolve();
    const completed = await waitFor("20 completed jobs", async () => {
      const jobs = await allOf("completed");
      return jobs.length === 20 ? jobs : null;
    });
    // the 10 that ran across the fault completed under the leases the copy kept
    for (const job of completed) expect(job.history.map((a) => a.outcome)).toEqual(["completed"]);
    await waitFor("the promoter to log its recovery", () => lines.some((l) => l.msg === "promoter recovered"));
    expect(failure("promoter")).toHaveLength(1);
    expect(failure("promoter")[0]!.error).toContain("is gone");
  });

  it("keeps running while its libSQL server is down, logs each change of state once, and resumes with no job failed", async () => {
    const dir = tempDatabase();
    cleanups.push(dir.cleanup);
    const server = await libsqlServer(dir.dir);
    cleanups.push(() => server.kill());
    await server.start();
    const lines: LogLine[] = [];
    const logger: Logger = createJsonLogger("debug", (line) => lines.push(JSON.parse(line) as LogLine));
    const spool = await createSpool({ url: server.url, logger, workerId: "remote-worker", leaseMs: 1000 });
    cleanups.push(() => spool.close());
    const serverDown = deferred();
    spool.define("work", async (payload: { n: number }) => {
      await serverDown.promise;
      return payload.n;
    }, { maxAttempts: 1 });
    // 12 alike jobs go as one run statement, 8 with alternating priorities as JSON rows
    const enqueued = await spool.enqueueMany(Array.from({ length: 20 }, (_, n) => ({
      type: "work", payload: { n }, options: n < 12 ? undefined : { priority: n % 2 },
    })));
    // the ids a server hands back name the jobs made from each input
    for (const [n, { id }] of enqueued.entries()) expect((await spool.getJob(id))!.payload).toEqual({ n });
    const runtime = await spool.start({ http: false, concurrency: 10, minPollMs: 5, maxPollMs: 50 });
    cleanups.push(() => runtime.stop({ graceMs: 0 }));
    const running = await waitFor("10 running jobs", async () => {
      const jobs = (await spool.listJobs({ status: "running", limit: 500 })).jobs;
      return jobs.length === 10 ? jobs : null;
    });

    await server.kill();
    serverDown.resolve();
    const failure = (service: string) => failuresOf(lines, service);
    await waitFor("the completer and heartbeat to report the fault", () => failure("completer").length > 0 && failure("heartbeat").length > 0);
    // outlast every lease, so recovery must not hand the still-running jobs to the reaper
    const latestExpiry = Math.max(...running.map((j) => j.startedAt! + 1000));
    await waitFor("the leases to run out while the server is down", () => Date.now() > latestExpiry + 500);

    await server.start();
    const completed = await waitFor("20 completed jobs", async () => {
      const jobs = (await spool.listJobs({ status: "completed", limit: 500 })).jobs;
      return jobs.length === 20 ? jobs : null;
    }, 60_000);
    for (const job of completed) {
      expect(job.history.map((a) => a.outcome)).toEqual(["completed"]);
      expect(job.lastError).toBeNull();
    }
    expect(await spool.countJobs()).toEqual({ blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 20, dead: 0, cancelled: 0 });
    await expectOneFailureAndOneRecovery(lines, ["completer", "heartbeat"]);
    expect(lines.filter((l) => l.msg.includes("lease lost") || l.msg.includes("lease expired"))).toEqual([]);
    const after = await spool.enqueue("work", { n: 99 });
    await waitFor("a job enqueued after the outage to complete", async () => (await spool.getJob(after.id))?.status === "completed");
  });

  it("fails createSpool with DATABASE_UNAVAILABLE when a server URL has nobody listening", async () => {
    const port = await freePort();
    const attempt = createSpool({ url: `http://127.0.0.1:${port}` });
    await expect(attempt).rejects.toMatchObject({ name: "SpoolError", code: "DATABASE_UNAVAILABLE" });
    await expect(attempt).rejects.toThrow(`http://127.0.0.1:${port}`);
  });
});
