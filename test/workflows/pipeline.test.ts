/**
 * The bundled order pipeline as a workflow, through a real worker on a real
 * database file: steps in order, both branches, the fan-in reading their
 * results, a failed payment, a failed email and an optional step that dies.
 */
import { afterEach, describe, expect, it } from "vitest";
import example from "../fixtures/order-workflow.ts";
import { PermanentError } from "../../src/index.ts";
import { byType, defineAll, workflowSystem } from "./support.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const order = { orderId: "A-1", amountCents: 1999, email: "a@example.com" };

describe("the order pipeline workflow", () => {
  it("runs the steps in order, both branches, and a fan-in that waits for both and reads their results", async () => {
    const { spool, start, settled } = await workflowSystem(cleanups);
    defineAll(spool, example);
    const { workflowId, id } = await spool.startWorkflow("process_order", order);
    expect((await spool.getJob(id))!.workflowId).toBe(workflowId);
    await start();

    const workflow = await settled(workflowId, "completed");
    const jobs = byType(workflow);
    expect(Object.keys(jobs).sort()).toEqual(["generate_invoice", "notify_warehouse", "process_order", "send_order_confirmation", "sync_inventory"]);
    expect(workflow.counts).toMatchObject({ jobs: 5, completed: 5, dead: 0, cancelled: 0, warnings: 0 });
    expect(workflow.finishedAt).not.toBeNull();
    expect(jobs.process_order!.result).toEqual({ charged: 1999 });
    expect(jobs.send_order_confirmation!.parentId).toBe(jobs.process_order!.id);
    expect(jobs.generate_invoice!.parentId).toBe(jobs.send_order_confirmation!.id);
    expect(jobs.sync_inventory!.parentId).toBe(jobs.send_order_confirmation!.id);
    expect(jobs.notify_warehouse!.after).toEqual([jobs.generate_invoice!.id, jobs.sync_inventory!.id]);
    expect(jobs.notify_warehouse!.result).toEqual({ orderId: "A-1", invoice: "INV-A-1", inventoryReserved: true });

    // the fan-in started only after both branches had finished
    const warehouse = await spool.getJob(jobs.notify_warehouse!.id);
    for (const branch of [jobs.generate_invoice!, jobs.sync_inventory!]) {
      const job = await spool.getJob(branch.id);
      expect(warehouse!.startedAt!).toBeGreaterThanOrEqual(job!.finishedAt!);
      expect(job!.workflowId).toBe(workflowId);
    }
  });

  it("stops everything downstream of a payment that fails permanently, and the workflow ends failed", async () => {
    const { spool, start, settled } = await workflowSystem(cleanups);
    defineAll(spool, example);
    const { workflowId, id } = await spool.startWorkflow("process_order", { ...order, amountCents: 0 });
    await start();

    const workflow = await settled(workflowId, "failed");
    expect(workflow.jobs.map((j) => [j.id, j.status])).toEqual([[id, "dead"]]);
    expect(workflow.jobs[0]!.lastError).toContain("payment declined");
    expect(workflow.counts).toMatchObject({ jobs: 1, dead: 1 });
    expect((await spool.listJobs({ status: "completed" })).jobs).toEqual([]);
  });

  it("keeps invoicing, inventory and the warehouse going when the email fails, and ends completed_with_errors with the warning", async () => {
    const { spool, start, settled } = await workflowSystem(cleanups);
    defineAll(spool, example);
    const { workflowId } = await spool.startWorkflow("process_order", { ...order, email: "a@mail.invalid" });
    await start();

    const workflow = await settled(workflowId, "completed_with_errors");
    const jobs = byType(workflow);
    for (const type of ["generate_invoice", "sync_inventory", "notify_warehouse"]) expect(jobs[type]!.status).toBe("completed");
    expect(jobs.send_order_confirmation!.warnings).toEqual([
      "confirmation email for order A-1 not sent: mail server refused a@mail.invalid (order A-1 confirmed)",
    ]);
    expect(jobs.send_order_confirmation!.result).toEqual({ emailed: false });
    expect(workflow.counts.warnings).toBe(1);
    const confirmation = await spool.getJob(jobs.send_order_confirmation!.id);
    expect(confirmation!.history.at(-1)!.warnings).toEqual(jobs.send_order_confirmation!.warnings);
  });

  it("lets the rest complete when a step enqueued with optional: true dies, and ends completed_with_errors", async () => {
    const { spool, start, settled } = await workflowSystem(cleanups);
    spool.define("root", (_p, ctx) => {
      ctx.enqueue("nice_to_have", null, { optional: true, maxAttempts: 1 });
      ctx.enqueue("needed", null);
    });
    spool.define("nice_to_have", () => {
      throw new PermanentError("the nice-to-have step broke");
    });
    spool.define("needed", () => "done");
    const { workflowId } = await spool.startWorkflow("root", null);
    await start();

    const workflow = await settled(workflowId, "completed_with_errors");
    const jobs = byType(workflow);
    expect(jobs.nice_to_have).toMatchObject({ status: "dead", optional: true });
    expect(jobs.needed).toMatchObject({ status: "completed", result: "done" });
    expect(workflow.counts).toMatchObject({ jobs: 3, completed: 2, dead: 1 });
  });
});
