/**
 * Many worker processes on one libSQL server (sqld, run as
 * test/support/sqld.ts and the README recommend): every job exactly once,
 * writes that keep flowing under the load that wedged sqld's write-lock queue
 * with SQLite's WAL, and a server killed and restarted mid-run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { createSpool, type Spool } from "../../src/index.ts";
import { ROOT, type RunningProcess, currentRuntime, freePort, startWorker } from "../support/processes.ts";
import { libsqlServer } from "../support/sqld.ts";
import { waitFor } from "../support/system.ts";

interface Entry {
  event: string;
  id: string;
  at: number;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(workers: number, concurrency: number) {
  const dir = mkdtempSync(join(tmpdir(), "spool-server-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const server = await libsqlServer(dir);
  await server.start();
  cleanups.push(() => server.kill());
  const log = join(dir, "runs.log");
  writeFileSync(log, "");
  const spool = await createSpool({ url: server.url });
  cleanups.push(() => spool.close());
  const procs: RunningProcess[] = [];
  cleanups.push(async () => {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
  });
  const env = (port: number) => ({
    SPOOL_DATABASE_URL: server.url,
    SPOOL_JOBS: join(ROOT, "test/fixtures/scaling-jobs.mjs"),
    SPOOL_PORT: String(port),
    SPOOL_CONCURRENCY: String(concurrency),
    SCALING_LOG: log,
  });
  // started together: on two shared cores one after another takes seconds each
  procs.push(...(await Promise.all(Array.from({ length: workers }, async () => startWorker(currentRuntime(), env(await freePort()))))));
  const runs = (): Map<string, number[]> => {
    const perJob = new Map<string, number[]>();
    for (const line of readFileSync(log, "utf8").split("\n")) {
      if (line.length === 0) continue;
      const entry = JSON.parse(line) as Entry;
      if (entry.event === "run") perJob.set(entry.id, [...(perJob.get(entry.id) ?? []), entry.at]);
    }
    return perJob;
  };
  return { server, spool, procs, runs };
}

/** Waits for `count` completed jobs; on a timeout the error carries the counts and what each worker printed last. */
async function allCompleted(spool: Spool, count: number, procs: RunningProcess[], eachCheck: () => Promise<void> = async () => {}) {
  try {
    await waitFor(`${count} jobs completed`, async () => {
      await eachCheck();
      return (await spool.countJobs()).completed === count;
    }, 50_000, 100);
  } catch (error) {
    const counts = await spool.countJobs().catch((e: unknown) => String(e));
    const outputs = procs.map((p) => `--- worker ${p.pid}:\n${p.output().split("\n").slice(-10).join("\n")}`);
    throw new Error(`${(error as Error).message}\ncounts: ${JSON.stringify(counts)}\n${outputs.join("\n")}`);
  }
}

describe("worker processes sharing one libSQL server", () => {
  it("6 processes of concurrency 50 run every job exactly once while a direct write keeps going through", async () => {
    const { server, spool, procs, runs } = await setup(6, 50);
    const jobs = 1500;
    await spool.enqueueMany(Array.from({ length: jobs }, (_, i) => ({ type: "once", payload: { i } })));
    // the probe: a plain write from outside Spool, on every check, timed; a wedged write queue holds it for ever
    const probe = createClient({ url: server.url });
    cleanups.push(() => probe.close());
    await probe.execute("CREATE TABLE IF NOT EXISTS write_probe (at INTEGER NOT NULL)");
    let slowestProbeMs = 0;
    await allCompleted(spool, jobs, procs, async () => {
      const started = Date.now();
      await probe.execute({ sql: "INSERT INTO write_probe (at) VALUES (?)", args: [started] });
      slowestProbeMs = Math.max(slowestProbeMs, Date.now() - started);
    });
    const perJob = runs();
    expect(perJob.size).toBe(jobs);
    expect([...perJob.values()].filter((r) => r.length !== 1)).toEqual([]);
    expect(slowestProbeMs).toBeLessThan(10_000);
    for (const p of procs) expect(p.output()).not.toMatch(/Unhandled|unhandled rejection|ResponseError/);
  }, 120_000);

  it("recovers when the server is killed and restarted mid-run: every job completes once, and only jobs running at the kill run again", async () => {
    const workers = 3;
    const concurrency = 20;
    const { server, spool, procs, runs } = await setup(workers, concurrency);
    const jobs = 1500;
    await spool.enqueueMany(Array.from({ length: jobs }, (_, i) => ({ type: "once", payload: { i } })));
    await waitFor("a part of the jobs to run", () => (runs().size > 300 ? true : null), 30_000, 20);
    await server.kill();
    const killedAt = Date.now();
    await server.start();
    await allCompleted(spool, jobs, procs);
    const perJob = runs();
    expect(perJob.size).toBe(jobs);
    const again = [...perJob.entries()].filter(([, at]) => at.length > 1);
    // a job runs again only when its first run had started before the kill and its outcome was lost with the server
    for (const [id, at] of again) expect(at[0]!, `job ${id}`).toBeLessThanOrEqual(killedAt);
    expect(again.length).toBeLessThanOrEqual(workers * concurrency);
    expect(procs.every((p) => !/Unhandled|unhandled rejection/.test(p.output()))).toBe(true);
  }, 120_000);
});
