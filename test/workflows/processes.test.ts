/**
 * Workflows across real worker processes on one database file: a fan-in
 * whose two dependencies complete at the same moment in two processes is
 * released exactly once, every time; and a thousand workflows all complete.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSpool, type Spool } from "../../src/index.ts";
import { ROOT, type RunningProcess, currentRuntime, freePort, startWorker } from "../support/processes.ts";
import { tempDatabase, waitFor } from "../support/system.ts";

interface Entry {
  id: string;
  type: string;
  workflowId: string;
  pid: number;
  at: number;
  sides?: number[];
  event?: "start" | "end";
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(workers: number, concurrency: number, prefetch?: number) {
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
  for (let i = 0; i < workers; i++) {
    procs.push(
      await startWorker(currentRuntime(), {
        SPOOL_DATABASE_URL: db.url,
        SPOOL_JOBS: join(ROOT, "test/fixtures/workflow-jobs.mjs"),
        SPOOL_PORT: String(await freePort()),
        SPOOL_CONCURRENCY: String(concurrency),
        ...(prefetch === undefined ? {} : { SPOOL_PREFETCH: String(prefetch) }),
        WORKFLOW_LOG: log,
      }),
    );
  }
  const entries = (): Entry[] =>
    readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Entry);
  return { spool, procs, entries };
}

/** Waits for the workflow to be completed; on a timeout the error carries it and what each worker printed last. */
async function completed(spool: Spool, id: string, procs: RunningProcess[], timeoutMs = 20_000) {
  try {
    return await waitFor(`workflow ${id} completed`, async () => ((await spool.getWorkflow(id))?.status === "completed" ? true : null), timeoutMs, 10);
  } catch (error) {
    const workflow = await spool.getWorkflow(id).catch((e: unknown) => String(e));
    const outputs = procs.map((p) => `--- worker ${p.pid}:\n${p.output().split("\n").slice(-10).join("\n")}`);
    throw new Error(`${(error as Error).message}\n${JSON.stringify(workflow)}\n${outputs.join("\n")}`);
  }
}

describe("workflows across worker processes", () => {
  it("releases a fan-in exactly once when its two dependencies complete at the same moment in two processes, every time", async () => {
    // One job at a time per process and none claimed ahead: the two sides of
    // a pair always run in different processes. (Each side waits for the
    // other to start, so one buffered behind the other would wait for it.)
    const { spool, procs, entries } = await setup(2, 1, 0);
    const rounds = 30;
    for (let round = 0; round < rounds; round++) {
      const { workflowId } = await spool.startWorkflow("pair", null);
      await completed(spool, workflowId, procs);
    }
    const all = entries();
    const joins = all.filter((e) => e.type === "join");
    expect(joins).toHaveLength(rounds);
    expect(new Set(joins.map((e) => e.workflowId)).size).toBe(rounds);
    let crossProcess = 0;
    for (const join of joins) {
      const sides = all.filter((e) => e.type === "side" && e.event === "end" && e.workflowId === join.workflowId);
      expect(sides).toHaveLength(2);
      if (sides[0]!.pid !== sides[1]!.pid) crossProcess++;
      // both ran at once (each waited for the other to start), and the join ran after both
      expect(join.at).toBeGreaterThanOrEqual(Math.max(sides[0]!.at, sides[1]!.at));
      expect([...join.sides!].sort()).toEqual(sides.map((s) => s.pid).sort());
    }
    expect(crossProcess).toBe(rounds);
    for (const workflow of (await spool.listWorkflows({ limit: rounds })).workflows) {
      expect(workflow).toMatchObject({ status: "completed", counts: { jobs: 4, completed: 4 } });
    }
  });

  it("completes 1,000 workflows of 5 steps across 2 processes, and getWorkflow agrees with the jobs", async () => {
    // The run takes about a second: a worker claiming 320 ahead (the default
    // at concurrency 10) can take all of it while the other, idle before the
    // enqueue, waits out its backed-off poll. This test is about the two
    // sharing the workflows, so each claims at most 80 ahead.
    const { spool, procs, entries } = await setup(2, 10, 80);
    const count = 1000;
    await spool.enqueueMany(Array.from({ length: count }, (_, i) => ({ type: "start", payload: { i }, options: { workflowId: `wf-${i}` } })));
    try {
      await waitFor(`${count * 5} jobs completed`, async () => (await spool.countJobs()).completed === count * 5, 50_000, 100);
    } catch (error) {
      throw new Error(`${(error as Error).message}\ncounts: ${JSON.stringify(await spool.countJobs())}\n${procs.map((p) => p.output().slice(-1000)).join("\n")}`);
    }
    const statuses = new Map<string, number>();
    let cursor: string | undefined;
    do {
      const page = await spool.listWorkflows({ limit: 500, cursor });
      for (const w of page.workflows) statuses.set(w.status, (statuses.get(w.status) ?? 0) + 1);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(Object.fromEntries(statuses)).toEqual({ completed: count });
    for (let i = 0; i < count; i++) {
      const workflow = (await spool.getWorkflow(`wf-${i}`))!;
      expect(workflow.jobs.map((j) => j.status)).toEqual(["completed", "completed", "completed", "completed", "completed"]);
      expect(workflow.counts).toMatchObject({ jobs: 5, completed: 5, blocked: 0, pending: 0, running: 0 });
      const merge = workflow.jobs.find((j) => j.type === "merge")!;
      expect(merge.after).toHaveLength(2);
      expect(merge.result).toEqual(["a", "b"]);
    }
    const merges = entries();
    expect(merges).toHaveLength(count);
    expect(new Set(merges.map((e) => e.pid)).size).toBe(2);
  });
});
