/**
 * Tracking and controlling workflows: getWorkflow agrees with the jobs,
 * listWorkflows pages newest first through its indexes, cancelWorkflow and
 * retryWorkflow move every job they should and no other.
 */
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { PermanentError } from "../../src/index.ts";
import { WORKFLOW_PAGE_SQL } from "../../src/store/workflows.ts";
import { deferred } from "../support/system.ts";
import { byType, workflowSystem } from "./support.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("workflow control", () => {
  it("retries a dead step: it runs again, the dependents cancelled because of it come back and run, and the workflow ends completed", async () => {
    const { spool, start, settled } = await workflowSystem(cleanups);
    let invoiceWorks = false;
    spool.define("root", (_p, ctx) => {
      const invoice = ctx.enqueue("invoice", null, { maxAttempts: 1 });
      const stock = ctx.enqueue("stock", null);
      const notify = ctx.enqueue("notify", null, { after: [invoice, stock] });
      ctx.enqueue("archive", null, { after: [notify] });
    });
    spool.define("invoice", () => {
      if (!invoiceWorks) throw new PermanentError("invoice service down");
      return "INV-1";
    });
    spool.define("stock", () => "reserved");
    spool.define("notify", async (_p, ctx) => (await ctx.dependencies()).map((d) => d.result));
    spool.define("archive", () => "archived");
    const { workflowId } = await spool.startWorkflow("root", null);
    await start();

    const failed = await settled(workflowId, "failed");
    const before = byType(failed);
    expect(before.invoice!.status).toBe("dead");
    expect(before.stock!.status).toBe("completed");
    expect(before.notify).toMatchObject({ status: "cancelled", lastError: `cancelled: its dependency job ${before.invoice!.id} (invoice) ended dead` });
    expect(before.archive!.status).toBe("cancelled");
    expect(failed.counts).toMatchObject({ jobs: 5, completed: 2, dead: 1, cancelled: 2 });

    invoiceWorks = true;
    expect(await spool.retryWorkflow(workflowId)).toEqual({ jobs: 3 });
    const running = await spool.getWorkflow(workflowId);
    expect(running!.status === "running" || running!.status === "completed").toBe(true);
    const completed = await settled(workflowId, "completed");
    const after = byType(completed);
    expect(after.invoice).toMatchObject({ status: "completed", result: "INV-1", attempts: 1 });
    expect(after.notify).toMatchObject({ status: "completed", result: ["INV-1", "reserved"], lastError: null });
    expect(after.archive!.status).toBe("completed");
    expect(completed.counts).toMatchObject({ jobs: 5, completed: 5, dead: 0, cancelled: 0 });
    await expect(spool.retryWorkflow(workflowId)).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(spool.retryWorkflow("no-such-workflow")).rejects.toMatchObject({ code: "WORKFLOW_NOT_FOUND" });
  });

  it("cancels every unfinished job of a workflow, stops its running step and discards what that step stages", async () => {
    const { spool, start, settled, reach } = await workflowSystem(cleanups);
    const started = deferred();
    spool.define("root", (_p, ctx) => {
      const slow = ctx.enqueue("slow", null);
      ctx.enqueue("later", null, { after: [slow] });
      ctx.enqueue("delayed", null, { delayMs: 3_600_000 });
    });
    spool.define("slow", async (_p, ctx) => {
      ctx.enqueue("never", null);
      started.resolve();
      await new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
    });
    spool.define("later", () => undefined);
    spool.define("never", () => undefined);
    spool.define("delayed", () => undefined);
    const { workflowId, id: root } = await spool.startWorkflow("root", null);
    await start();
    await started.promise;

    const result = await spool.cancelWorkflow(workflowId);
    expect(result).toEqual({ status: "cancelling", jobs: 3 });
    const cancelled = await settled(workflowId, "cancelled");
    const jobs = byType(cancelled);
    expect(jobs.root!.status).toBe("completed");
    for (const type of ["slow", "later", "delayed"]) expect(jobs[type]!.status).toBe("cancelled");
    expect(jobs.never).toBeUndefined();
    expect(cancelled.finishedAt).not.toBeNull();
    await reach(root, "completed");
    await expect(spool.cancelWorkflow(workflowId)).rejects.toMatchObject({ code: "INVALID_STATE" });
    await expect(spool.cancelWorkflow("nope")).rejects.toMatchObject({ code: "WORKFLOW_NOT_FOUND" });
  });

  it("lists workflows newest first, by status and by type, a page at a time, through their indexes", async () => {
    const { spool, url, start, settled } = await workflowSystem(cleanups);
    spool.define("good", () => undefined);
    spool.define("bad", () => {
      throw new PermanentError("no");
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await spool.startWorkflow(i % 2 === 0 ? "good" : "bad", { i })).workflowId);
    await start();
    for (let i = 0; i < 5; i++) await settled(ids[i]!, i % 2 === 0 ? "completed" : "failed");

    const all = await spool.listWorkflows();
    expect(all.workflows.map((w) => w.id)).toEqual([...ids].reverse());
    expect(all.workflows[0]).toMatchObject({ type: "good", status: "completed", counts: { jobs: 1, completed: 1 } });
    expect(all.workflows[0]).not.toHaveProperty("jobs");
    expect((await spool.listWorkflows({ status: "failed" })).workflows.map((w) => w.id)).toEqual([ids[3], ids[1]]);
    expect((await spool.listWorkflows({ type: "good", status: "completed" })).workflows.map((w) => w.id)).toEqual([ids[4], ids[2], ids[0]]);
    const first = await spool.listWorkflows({ limit: 2 });
    expect(first.workflows.map((w) => w.id)).toEqual([ids[4], ids[3]]);
    const second = await spool.listWorkflows({ limit: 2, cursor: first.nextCursor! });
    expect(second.workflows.map((w) => w.id)).toEqual([ids[2], ids[1]]);
    const last = await spool.listWorkflows({ limit: 2, cursor: second.nextCursor! });
    expect(last).toMatchObject({ workflows: [{ id: ids[0] }], nextCursor: null });
    await expect(spool.listWorkflows({ status: "done" as "completed" })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(spool.listWorkflows({ limit: 0 })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    expect(await spool.getWorkflow("unknown")).toBeNull();

    const client = createClient({ url });
    try {
      for (const sql of Object.values(WORKFLOW_PAGE_SQL)) {
        const plan = (await client.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: { status: "x", type: "t", before: 1, limit: 1 } })).rows.map((r) => String(r.detail));
        expect(plan.join("\n")).not.toMatch(/spool_jobs|TEMP B-TREE/);
      }
    } finally {
      client.close();
    }
  });
});
