/**
 * Many real worker processes on one database file: every job exactly once,
 * global per-type limits, and queue pauses seen by every process.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSpool, type Spool } from "../../src/index.ts";
import { ROOT, type RunningProcess, currentRuntime, freePort, startWorker } from "../support/processes.ts";
import { tempDatabase, waitFor } from "../support/system.ts";

interface Entry {
  event: string;
  id: string;
  type: string;
  startedAt: number;
  at: number;
  pid: number;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(workers: number, env: Record<string, string> = {}) {
  const db = tempDatabase();
  cleanups.push(() => db.cleanup());
  const log = join(db.dir, "runs.log");
  writeFileSync(log, "");
  const spool = await createSpool({ url: db.url });
  cleanups.push(() => spool.close());
  const procs: RunningProcess[] = [];
  cleanups.push(async () => {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
  });
  const startAll = async () => {
    for (let i = 0; i < workers; i++) {
      procs.push(
        await startWorker(currentRuntime(), {
          SPOOL_DATABASE_URL: db.url,
          SPOOL_JOBS: join(ROOT, "test/fixtures/scaling-jobs.mjs"),
          SPOOL_PORT: String(await freePort()),
          SCALING_LOG: log,
          ...env,
        }),
      );
    }
  };
  const entries = (): Entry[] =>
    readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Entry);
  return { spool, startAll, entries, procs };
}

/** Waits for `count` completed jobs; on a timeout the error carries the counts and what each worker printed last. */
async function allCompleted(spool: Spool, count: number, procs: RunningProcess[] = []) {
  try {
    await waitFor(`${count} jobs completed`, async () => (await spool.countJobs()).completed === count, 45_000, 100);
  } catch (error) {
    const counts = await spool.countJobs().catch((e: unknown) => String(e));
    const outputs = procs.map((p) => `--- worker ${p.pid}:\n${p.output().split("\n").slice(-15).join("\n")}`);
    throw new Error(`${(error as Error).message}\ncounts: ${JSON.stringify(counts)}\n${outputs.join("\n")}`);
  }
}

describe("worker processes sharing one file", () => {
  it("run each of 5,000 jobs exactly once across 4 processes", async () => {
    const { spool, startAll, entries, procs } = await setup(4);
    // every process is up before the jobs exist, so a slow start cannot leave one process to run them all
    await startAll();
    await spool.enqueueMany(Array.from({ length: 5000 }, (_, i) => ({ type: "once", payload: { i } })));
    await allCompleted(spool, 5000, procs);
    const runs = entries().filter((e) => e.event === "run");
    const perJob = new Map<string, number>();
    for (const r of runs) perJob.set(r.id, (perJob.get(r.id) ?? 0) + 1);
    expect(perJob.size).toBe(5000);
    expect([...perJob.values()].filter((n) => n !== 1)).toEqual([]);
    expect(new Set(runs.map((r) => r.pid)).size).toBeGreaterThan(1);
  });

  it("never run more than a type's concurrency at once across 3 processes", async () => {
    const { spool, startAll, entries, procs } = await setup(3);
    await startAll();
    await spool.enqueueMany(Array.from({ length: 30 }, () => ({ type: "limited", payload: null })));
    await allCompleted(spool, 30, procs);
    const events = entries()
      .filter((e) => e.type === "limited")
      .sort((a, b) => a.at - b.at || (a.event === "end" ? -1 : 1));
    let running = 0;
    let peak = 0;
    for (const e of events) {
      running += e.event === "start" ? 1 : -1;
      peak = Math.max(peak, running);
    }
    expect(events.filter((e) => e.event === "start")).toHaveLength(30);
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2);
  });

  it("start no more than a rate-limited type's limit in any window, while another type keeps flowing", async () => {
    const { spool, startAll, entries, procs } = await setup(2);
    await startAll();
    await spool.enqueueMany([
      ...Array.from({ length: 15 }, () => ({ type: "rated", payload: null })),
      ...Array.from({ length: 20 }, () => ({ type: "free", payload: null })),
    ]);
    await allCompleted(spool, 35, procs);
    const rated = entries().filter((e) => e.type === "rated").map((e) => e.startedAt).sort((a, b) => a - b);
    const free = entries().filter((e) => e.type === "free").map((e) => e.startedAt);
    expect(rated).toHaveLength(15);
    for (let i = 0; i < rated.length; i++) {
      const inWindow = rated.filter((t) => t >= rated[i]! && t < rated[i]! + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(5);
    }
    // 15 rated jobs need three windows; the free ones did not wait behind them
    expect(rated[14]! - rated[0]!).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...free)).toBeLessThan(rated[5]!);
  });

  it("stop claiming from a queue paused in another process", async () => {
    const { spool, startAll, entries, procs } = await setup(2);
    await startAll();
    await spool.pauseQueue("default");
    const paused = (await spool.enqueueMany(Array.from({ length: 10 }, () => ({ type: "free", payload: null })))).map((r) => r.id);
    // Probes in another queue, enqueued after the paused jobs: a claim orders
    // by run time, so a worker that claims a probe would have taken the paused
    // jobs first had it not seen the pause. Probe until every worker ran one.
    const probes = new Set<string>();
    await waitFor("every worker to claim a probe after the pause", async () => {
      probes.add((await spool.enqueue("free", null, { queue: "probe" })).id);
      const pids = new Set(entries().filter((e) => probes.has(e.id)).map((e) => e.pid));
      return pids.size === procs.length;
    }, 30_000, 100);
    expect(entries().filter((e) => paused.includes(e.id))).toEqual([]);
    for (const id of paused) expect((await spool.getJob(id))!.status).toBe("pending");
    await spool.resumeQueue("default");
    await allCompleted(spool, 10 + probes.size, procs);
  });
});
