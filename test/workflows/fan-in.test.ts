/**
 * Fan-in: jobs blocked on `after` dependencies, released or cancelled in the
 * transaction that finishes their dependencies, and the plans of the
 * statements that do it.
 */
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../src/index.ts";
import { CASCADE_SQL, RELEASE_SQL } from "../../src/store/dependencies.ts";
import { deferred } from "../support/system.ts";
import { workflowSystem } from "./support.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("fan-in", () => {
  it("keeps a job blocked until the last of its dependencies completes, then runs it once", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups);
    const gates = [deferred(), deferred()];
    const runs: string[] = [];
    spool.define("branch", async (p: { n: number }) => {
      await gates[p.n]!.promise;
      return { n: p.n };
    });
    spool.define("join", async (_p, ctx) => {
      runs.push(ctx.job.id);
      return (await ctx.dependencies()).map((d) => [d.type, d.status, d.result]);
    });
    const { workflowId, id: first } = await spool.startWorkflow("branch", { n: 0 });
    const second = await spool.enqueue("branch", { n: 1 }, { workflowId });
    const join = await spool.enqueue("join", null, { after: [first, second.id] });
    expect((await spool.getJob(join.id))).toMatchObject({ status: "blocked", workflowId });
    await start();

    gates[0]!.resolve();
    await reach(first, "completed");
    expect((await spool.getJob(join.id))!.status).toBe("blocked");
    gates[1]!.resolve();
    const done = await reach(join.id, "completed");
    expect(done.result).toEqual([["branch", "completed", { n: 0 }], ["branch", "completed", { n: 1 }]]);
    expect(runs).toEqual([join.id]);
  });

  it("releases a dependent with a future runAt as scheduled, and one whose dependencies already completed at once", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups);
    spool.define("step", () => undefined);
    const dep = await spool.enqueue("step", null);
    await start();
    await reach(dep.id, "completed");
    const now = await spool.enqueue("step", null, { after: [dep.id] });
    expect((await spool.getJob(now.id))!.status).toBe("pending");
    await reach(now.id, "completed");

    const other = await spool.enqueue("step", null, { delayMs: 60_000, queue: "elsewhere" });
    const later = await spool.enqueue("step", null, { after: [other.id], runAt: Date.now() + 3_600_000 });
    await spool.cancel(other.id);
    expect((await spool.getJob(later.id))!.status).toBe("cancelled");
    const ok = await spool.enqueue("step", null, { after: [dep.id], runAt: Date.now() + 3_600_000 });
    expect((await spool.getJob(ok.id))!.status).toBe("scheduled");
  });

  it("cancels the dependents of a dead job, and theirs in turn, with a reason naming it", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups);
    spool.define("charge", () => {
      throw new PermanentError("card declined");
    });
    spool.define("ship", () => undefined);
    const { workflowId, id: charge } = await spool.startWorkflow("charge", null);
    const ship = await spool.enqueue("ship", null, { after: [charge] });
    const notify = await spool.enqueue("ship", null, { after: [ship.id] });
    await start();
    await reach(charge, "dead");
    const shipped = await reach(ship.id, "cancelled");
    expect(shipped.lastError).toBe(`cancelled: its dependency job ${charge} (charge) ended dead`);
    const notified = await reach(notify.id, "cancelled");
    expect(notified.lastError).toBe(`cancelled: its dependency job ${ship.id} (ship) ended cancelled`);
    expect(shipped.attempts).toBe(0);
    expect((await spool.getWorkflow(workflowId))!.status).toBe("failed");
  });

  it("runs a dependent enqueued with onDependencyFailure: \"run\" once every dependency finished, however", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups);
    spool.define("fails", () => {
      throw new PermanentError("no");
    });
    spool.define("works", () => "yes");
    spool.define("cleanup", async (_p, ctx) => (await ctx.dependencies()).map((d) => d.status));
    const { workflowId, id: failing } = await spool.startWorkflow("fails", null);
    const working = await spool.enqueue("works", null, { workflowId });
    const cleanup = await spool.enqueue("cleanup", null, { after: [failing, working.id], onDependencyFailure: "run" });
    await start();
    const done = await reach(cleanup.id, "completed");
    expect(done.result).toEqual(["dead", "completed"]);
    expect(done.onDependencyFailure).toBe("run");
  });

  it("releases a dependent added while its dependency runs in the transaction that completes that dependency", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups, { leaseMs: 1000 });
    const running = deferred();
    const finish = deferred();
    spool.define("long", async () => {
      running.resolve();
      await finish.promise;
    });
    spool.define("after_long", () => "ran");
    const long = await spool.enqueue("long", null);
    await start();
    await running.promise;
    const dependent = await spool.enqueue("after_long", null, { after: [long.id] });
    expect((await spool.getJob(dependent.id))!.status).toBe("blocked");
    // the completion is committed when its event fires: the release must be too
    const completed = deferred<string>();
    spool.on("completed", ({ job }) => {
      if (job.id === long.id) void spool.getJob(dependent.id).then((j) => completed.resolve(j!.status));
    });
    finish.resolve();
    expect(await completed.promise).not.toBe("blocked");
    expect((await reach(dependent.id, "completed")).result).toBe("ran");
  });

  it("refuses after naming an unknown job or jobs of two workflows with INVALID_OPTIONS, and writes nothing", async () => {
    const { spool } = await workflowSystem(cleanups);
    spool.define("step", () => undefined);
    const a = await spool.startWorkflow("step", null);
    const b = await spool.startWorkflow("step", null);
    await expect(spool.enqueue("step", null, { after: [a.id, "999999"] })).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
      message: expect.stringContaining("999999"),
    });
    await expect(spool.enqueue("step", null, { after: [a.id, b.id] })).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
      message: expect.stringContaining(b.id),
    });
    await expect(spool.enqueueMany([
      { type: "step", payload: 1 },
      { type: "step", payload: 2, options: { after: ["424242"] } },
    ])).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(spool.enqueue("step", null, { after: [] })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(spool.enqueue("step", null, { after: [a.id], onDependencyFailure: "skip" as "run" })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    expect((await spool.countJobs())).toMatchObject({ pending: 2, blocked: 0 });
  });

  it("fails a parent permanently when a job it stages names an unknown id in after, and writes none of its children", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups);
    spool.define("parent", (_p, ctx) => {
      ctx.enqueue("step", null);
      ctx.enqueue("step", null, { after: ["777777"] });
    });
    spool.define("step", () => undefined);
    const { workflowId, id } = await spool.startWorkflow("parent", null);
    await start();
    const parent = await reach(id, "dead");
    expect(parent.attempts).toBe(1);
    expect(parent.lastError).toContain("777777");
    expect((await spool.getWorkflow(workflowId))!.jobs).toHaveLength(1);
  });

  it("cancels a blocked job on request, and its dependents with it", async () => {
    const { spool } = await workflowSystem(cleanups);
    spool.define("step", () => undefined);
    const { workflowId, id: root } = await spool.startWorkflow("step", null, { delayMs: 60_000 });
    const middle = await spool.enqueue("step", null, { after: [root] });
    const last = await spool.enqueue("step", null, { after: [middle.id] });
    expect(await spool.cancel(middle.id)).toBe("cancelled");
    expect((await spool.getJob(last.id))).toMatchObject({ status: "cancelled", lastError: expect.stringContaining(`job ${middle.id}`) });
    expect((await spool.getJob(root))!.status).toBe("scheduled");
    expect((await spool.getWorkflow(workflowId))!.counts).toMatchObject({ scheduled: 1, cancelled: 2, blocked: 0 });
  });

  it("releases and cancels through index lookups only, never a scan of the jobs table", async () => {
    const { url } = await workflowSystem(cleanups);
    const client = createClient({ url });
    try {
      for (const sql of [CASCADE_SQL, RELEASE_SQL]) {
        const plan = (await client.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: { now: 0 } })).rows.map((r) => String(r.detail));
        const scans = plan.filter((d) => /^SCAN /.test(d));
        // the only scans are of the rows finished in this batch and of the recursion's own queue
        for (const scan of scans) expect(scan).toMatch(/^SCAN (s|doomed|c)$/);
        expect(plan).toContain("SEARCH d USING PRIMARY KEY (depends_on=?)");
        expect(plan.join("\n")).not.toMatch(/SCAN spool_jobs/);
      }
    } finally {
      client.close();
    }
  });
});
