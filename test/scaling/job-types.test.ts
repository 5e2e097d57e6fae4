/**
 * Worker processes that define different job types on one database: each
 * claims only its own types, a type nobody defines waits as pending, and the
 * options a job was enqueued without come from the worker that runs it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSpool } from "../../src/index.ts";
import { ROOT, type RunningProcess, currentRuntime, freePort, startWorker } from "../support/processes.ts";
import { tempDatabase, waitFor } from "../support/system.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const db = tempDatabase();
  cleanups.push(() => db.cleanup());
  const log = join(db.dir, "runs.log");
  writeFileSync(log, "");
  // the producer: it enqueues, and never defines a type
  const producer = await createSpool({ url: db.url });
  cleanups.push(() => producer.close());
  const procs: RunningProcess[] = [];
  cleanups.push(async () => {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
  });
  const worker = async (types: string, env: Record<string, string> = {}) => {
    const port = await freePort();
    const proc = await startWorker(currentRuntime(), {
      SPOOL_DATABASE_URL: db.url,
      SPOOL_JOBS: join(ROOT, "test/fixtures/typed-jobs.mjs"),
      SPOOL_PORT: String(port),
      SPOOL_LEASE_MS: "5000",
      FIXTURE_TYPES: types,
      FIXTURE_LOG: log,
      ...env,
    });
    procs.push(proc);
    return { proc, url: `http://127.0.0.1:${port}` };
  };
  const runs = () =>
    readFileSync(log, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as { id: string; type: string; pid: number });
  return { producer, worker, runs };
}

describe("workers that define different job types", () => {
  it("runs 200 jobs of each of two types on the two workers that define them, none dead, and says in each start log what it serves", async () => {
    const { producer, worker, runs } = await setup();
    const a = await worker("a");
    const b = await worker("b");
    expect(a.proc.output()).toMatch(/"msg":"worker started".*"types":\["a"\]/);
    expect(b.proc.output()).toMatch(/"msg":"worker started".*"types":\["b"\]/);
    const items = Array.from({ length: 200 }, (_, n) => [{ type: "a", payload: { n } }, { type: "b", payload: { n } }]).flat();
    await producer.enqueueMany(items);
    await waitFor("all 400 jobs to finish", async () => {
      const counts = await producer.countJobs();
      return counts.completed + counts.dead === 400;
    }, 45_000);

    expect(await producer.countJobs()).toMatchObject({ completed: 400, dead: 0 });
    const pidsOf = (type: string) => new Set(runs().filter((run) => run.type === type).map((run) => run.pid));
    expect(pidsOf("a")).toEqual(new Set([a.proc.pid]));
    expect(pidsOf("b")).toEqual(new Set([b.proc.pid]));
    expect(runs()).toHaveLength(400);
  });

  it("leaves a job of a type no worker defines pending, and counts it per type in GET /stats", async () => {
    const { producer, worker } = await setup();
    const a = await worker("a");
    const orphan = await producer.enqueue("nobody_defines_this", { n: 1 });
    const done = await producer.enqueue("a", { n: 2 });
    await waitFor("the job of type a to complete", async () => (await producer.getJob(done.id))?.status === "completed");

    const stats = (await (await fetch(`${a.url}/stats`)).json()) as Record<string, any>;
    expect(stats.counts).toMatchObject({ pending: 1, completed: 1, dead: 0 });
    expect(stats.byType).toEqual({
      a: { blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 1, dead: 0, cancelled: 0 },
      nobody_defines_this: { blocked: 0, scheduled: 0, pending: 1, running: 0, completed: 0, dead: 0, cancelled: 0 },
    });
    expect(await producer.getJob(orphan.id)).toMatchObject({ status: "pending", attempts: 0, history: [] });
  });

  it("runs a job enqueued without options under the worker's maxAttempts and timeoutMs; options the enqueuer set win", async () => {
    const { producer, worker } = await setup();
    await worker("slow", { FIXTURE_MAX_ATTEMPTS: "1", FIXTURE_TIMEOUT_MS: "500" });
    const plain = await producer.enqueue("slow", { hang: true });
    const explicit = await producer.enqueue("slow", { hang: true }, { maxAttempts: 2, timeoutMs: 300, backoff: { type: "fixed", baseMs: 0, jitter: false } });
    const dead = (id: string) =>
      waitFor(`job ${id} to be dead`, async () => {
        const job = await producer.getJob(id);
        return job?.status === "dead" ? job : null;
      }, 30_000);

    const fromWorker = await dead(plain.id);
    expect(fromWorker).toMatchObject({ attempts: 1, maxAttempts: 1, timeoutMs: 500 });
    expect(fromWorker.history).toEqual([expect.objectContaining({ outcome: "timed_out", error: expect.stringContaining("timed out after 500 ms") })]);
    const enqueuer = await dead(explicit.id);
    expect(enqueuer).toMatchObject({ attempts: 2, maxAttempts: 2, timeoutMs: 300 });
    expect(enqueuer.history.map((attempt) => attempt.outcome)).toEqual(["timed_out", "timed_out"]);
  });
});
