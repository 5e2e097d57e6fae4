/**
 * The bundled order pipeline through its own routes (in process, through the
 * real handler and its guards) and a real worker on a real database file:
 * validation, a good order, a double submit, a declined and a flaky card, a
 * failing mailer, an item out of stock, express priority, and the schedule
 * that cancels unpaid orders, driven by a fake clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Clock } from "../../src/core/clock.ts";
import { PRIORITY } from "../../src/core/options.ts";
import { type OrderPipelineOptions, createOrderPipeline } from "../../src/example/orders/pipeline.ts";
import { createHandler } from "../../src/http/handler.ts";
import { SetClock } from "../support/clocks.ts";
import { openSpool, waitFor } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

interface Shown {
  id: string;
  clientOrderId: string;
  status: string;
  reason: string | null;
  amountCents: number;
  workflowId: string;
  deduplicated?: boolean;
  workflow: { id: string; status: string; counts: Record<string, number>; steps: Array<{ id: string; type: string; status: string; attempts: number; warnings: string[]; lastError: string | null }> };
}

/** A Spool on a fresh file with the pipeline set up on it; `only` defines just those job types. */
async function pipelineSystem(options: OrderPipelineOptions & { clock?: Clock; only?: string[] } = {}) {
  const { spool, cleanup } = await openSpool({ clock: options.clock });
  cleanups.push(cleanup);
  const pipeline = createOrderPipeline({ mailFailureRate: 0, paymentRetryMs: 10, ...options });
  for (const [type, { handler, ...typeOptions }] of Object.entries(pipeline.jobs)) {
    if (!options.only || options.only.includes(type)) spool.define(type, handler, typeOptions);
  }
  await pipeline.setup!(spool);
  const app = createHandler(spool, { routes: pipeline.routes });
  const call = async (method: string, path: string, body?: unknown) => {
    const init: RequestInit = { method };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    if (body !== undefined) init.headers = { "content-type": "application/json" };
    const response = await app.fetch(new Request(`http://localhost${path}`, init));
    return { status: response.status, body: (await response.json()) as any };
  };
  const start = () => spool.start({ minPollMs: 5, maxPollMs: 20 });
  const order = (id: string, extra: Record<string, unknown> = {}) => ({
    clientOrderId: id,
    items: [{ sku: "mug", qty: 2 }, { sku: "sticker", qty: 1 }],
    paymentToken: "tok_visa",
    email: `${id}@example.com`,
    ...extra,
  });
  /** The order as GET /orders/:id shows it once its workflow has finished. */
  const finished = (id: string) =>
    waitFor(`order ${id} finished`, async () => {
      const { body } = await call("GET", `/orders/${id}`);
      return body.workflow && body.workflow.status !== "running" ? (body as Shown) : null;
    });
  return { spool, pipeline, services: pipeline.services(), call, start, order, finished };
}

const step = (shown: Shown, type: string) => shown.workflow.steps.find((s) => s.type === type);

describe("POST /orders", () => {
  it("answers 400 naming the field for every kind of bad body, and stores nothing", async () => {
    const { call, order, spool, services } = await pipelineSystem();
    const cases: Array<[unknown, string]> = [
      ["{not json", "field body"],
      [[1, 2], "field body"],
      [{ ...order("a"), clientOrderId: undefined }, "field clientOrderId"],
      [{ ...order("a"), clientOrderId: "" }, "field clientOrderId"],
      [{ ...order("a"), items: [] }, "field items:"],
      [{ ...order("a"), items: [{ sku: "mug", qty: 1 }, { sku: "poster", qty: 0 }] }, "field items[1].qty"],
      [{ ...order("a"), items: [{ sku: "mug", qty: 1.5 }] }, "field items[0].qty"],
      [{ ...order("a"), items: [{ sku: "mug", qty: 1 }, { sku: "mug", qty: 1 }] }, "field items[1].sku"],
      [{ ...order("a"), items: [{ sku: "mug", qty: 1 }, { sku: "unicorn", qty: 1 }] }, 'field items[1].sku: no product "unicorn"'],
      [{ ...order("a"), paymentToken: 7 }, "field paymentToken"],
      [{ ...order("a"), email: "not-an-address" }, "field email"],
      [{ ...order("a"), express: "yes" }, "field express"],
      [{ ...order("a"), coupon: "FREE" }, "field coupon"],
    ];
    for (const [body, field] of cases) {
      const { status, body: answer } = await call("POST", "/orders", body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(answer.error.code).toBe("INVALID_BODY");
      expect(answer.error.message).toContain(field);
    }
    expect(Object.values(await services.orders.countByStatus()).reduce((a, b) => a + b, 0)).toBe(0);
    expect(Object.values(await spool.countJobs()).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("takes a good order through every step to ready_to_ship, charging once and notifying the warehouse once", async () => {
    const { call, order, start, finished, services } = await pipelineSystem();
    const placed = await call("POST", "/orders", order("A-1"));
    expect(placed.status).toBe(202);
    expect(placed.body).toMatchObject({ clientOrderId: "A-1", status: "received", amountCents: 2 * 1200 + 300, deduplicated: false });
    expect(placed.body.paymentToken).toBeUndefined();
    await start();

    const shown = await finished(placed.body.id);
    expect(shown).toMatchObject({ status: "ready_to_ship", reason: null, workflowId: placed.body.workflowId });
    expect(shown.workflow.status).toBe("completed");
    expect(shown.workflow.steps.map((s) => [s.type, s.status])).toEqual([
      ["process_order", "completed"],
      ["send_order_confirmation", "completed"],
      ["generate_invoice", "completed"],
      ["sync_inventory", "completed"],
      ["notify_warehouse", "completed"],
    ]);
    const row = (await services.orders.get(placed.body.id))!;
    expect(row.invoice).toBe("INV-A-1");
    expect(row.shippedAt).not.toBeNull();
    expect(await services.payments.countCaptured()).toBe(1);
    expect(await services.warehouse.notificationsFor(placed.body.id)).toBe(1);
    expect(await services.inventory.stock("sticker")).toBe(1_000_000 - 1);
    expect(services.mailer.sent.map((m) => m.to)).toEqual(["A-1@example.com"]);

    expect((await call("GET", "/orders/ord_nope")).status).toBe(404);
    expect((await call("GET", "/orders/ord_nope")).body.error.code).toBe("ORDER_NOT_FOUND");
  });

  it("returns the same order and workflow for a double submit, sequential or at once, and charges once", async () => {
    const { call, order, start, finished, services, spool } = await pipelineSystem();
    const first = await call("POST", "/orders", order("A-2"));
    const again = await call("POST", "/orders", order("A-2"));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, workflowId: first.body.workflowId, deduplicated: true });
    const together = await Promise.all([1, 2, 3].map(() => call("POST", "/orders", order("A-3"))));
    expect(new Set(together.map((r) => r.body.id)).size).toBe(1);
    expect(new Set(together.map((r) => r.body.workflowId)).size).toBe(1);
    expect(together.filter((r) => r.body.deduplicated === false)).toHaveLength(1);
    await start();

    for (const id of [first.body.id, together[0]!.body.id]) expect((await finished(id)).status).toBe("ready_to_ship");
    expect(await services.payments.countCaptured()).toBe(2);
    expect(await services.payments.doubleCharged()).toEqual([]);
    expect((await spool.countJobsByType()).process_order!.completed).toBe(2);
  });

  it("stops a declined card at payment_declined with nothing downstream, and the workflow failed", async () => {
    const { call, order, start, finished, services } = await pipelineSystem();
    const placed = await call("POST", "/orders", order("D-1", { paymentToken: "decline_insufficient_funds" }));
    await start();
    const shown = await finished(placed.body.id);
    expect(shown.status).toBe("payment_declined");
    expect(shown.reason).toContain("declined");
    expect(shown.workflow.status).toBe("failed");
    expect(shown.workflow.steps.map((s) => [s.type, s.status, s.attempts])).toEqual([["process_order", "dead", 1]]);
    expect(await services.payments.countCaptured()).toBe(0);
    expect(await services.warehouse.count()).toBe(0);
  });

  it("retries a flaky card until it goes through, then carries on to ready_to_ship with one charge", async () => {
    const { call, order, start, finished, services } = await pipelineSystem();
    const placed = await call("POST", "/orders", order("F-1", { paymentToken: "flaky_gateway" }));
    await start();
    const shown = await finished(placed.body.id);
    expect(shown.status).toBe("ready_to_ship");
    expect(step(shown, "process_order")).toMatchObject({ status: "completed", attempts: 3 });
    expect(await services.payments.countCaptured()).toBe(1);
  });

  it("records a failed confirmation email as a warning and still invoices, reserves and ships: completed_with_errors", async () => {
    const { call, order, start, finished, services } = await pipelineSystem({ mailFailureRate: 1 });
    const placed = await call("POST", "/orders", order("M-1"));
    await start();
    const shown = await finished(placed.body.id);
    expect(shown.status).toBe("ready_to_ship");
    expect(shown.workflow.status).toBe("completed_with_errors");
    expect(shown.workflow.counts.warnings).toBe(1);
    expect(step(shown, "send_order_confirmation")!.warnings[0]).toContain("confirmation email to M-1@example.com not sent");
    expect(shown.workflow.steps.every((s) => s.status === "completed")).toBe(true);
    expect(services.mailer.sent).toEqual([]);
    expect(await services.warehouse.count()).toBe(1);
  });

  it("fails an order with an item out of stock: the invoice still runs, the warehouse is not told, the workflow fails", async () => {
    const { call, order, start, finished, services } = await pipelineSystem();
    const placed = await call("POST", "/orders", order("S-1", { items: [{ sku: "mug", qty: 1 }, { sku: "vinyl-first-press", qty: 1 }] }));
    await start();
    const shown = await finished(placed.body.id);
    expect(shown.status).toBe("failed");
    expect(shown.reason).toContain("out of stock: vinyl-first-press");
    expect(shown.workflow.status).toBe("failed");
    expect(step(shown, "sync_inventory")).toMatchObject({ status: "dead", attempts: 1 });
    expect(step(shown, "generate_invoice")!.status).toBe("completed");
    expect(step(shown, "notify_warehouse")!.status).toBe("completed");
    expect(await services.warehouse.count()).toBe(0);
    expect(await services.inventory.stock("mug")).toBe(1_000_000);
  });

  it("runs every step of an express order at PRIORITY.HIGH and the others at NORMAL", async () => {
    const { call, order, start, finished, spool } = await pipelineSystem();
    const express = await call("POST", "/orders", order("E-1", { express: true }));
    const normal = await call("POST", "/orders", order("N-1"));
    await start();
    for (const [placed, priority] of [[express, PRIORITY.HIGH], [normal, PRIORITY.NORMAL]] as const) {
      const shown = await finished(placed.body.id);
      expect(shown.workflow.steps).toHaveLength(5);
      for (const s of shown.workflow.steps) expect((await spool.getJob(s.id))!.priority).toBe(priority);
    }
  });
});

describe("the limits", () => {
  it("charges at most 4 orders at once, however many slots the worker has", async () => {
    const { call, order, spool, finished, services } = await pipelineSystem({ paymentLatencyMs: 40 });
    const placed = [];
    for (let i = 0; i < 12; i++) placed.push(await call("POST", "/orders", order(`C-${i}`)));
    await spool.start({ concurrency: 12, minPollMs: 5, maxPollMs: 20 });
    for (const p of placed) expect((await finished(p.body.id)).status).toBe("ready_to_ship");
    expect(services.payments.maxInFlight).toBe(4);
  });

  it("starts at most 20 confirmation emails in any second", async () => {
    const { call, order, start, finished, services, spool } = await pipelineSystem();
    const placed = [];
    for (let i = 0; i < 26; i++) placed.push(await call("POST", "/orders", order(`R-${i}`)));
    await start();
    for (const p of placed) expect((await finished(p.body.id)).status).toBe("ready_to_ship");
    expect(services.mailer.sent).toHaveLength(26);
    const { jobs } = await spool.listJobs({ status: "completed", type: "send_order_confirmation", limit: 100 });
    const times = jobs.map((j) => j.startedAt!).sort((a, b) => a - b);
    expect(times).toHaveLength(26);
    for (let i = 20; i < times.length; i++) expect(times[i]! - times[i - 20]!).toBeGreaterThanOrEqual(1000);
  });
});

describe("the schedules", () => {
  it("cancels an order still unpaid 30 minutes after it was placed, with its workflow, and leaves younger ones", async () => {
    const t0 = Date.UTC(2026, 0, 5, 9, 0, 0);
    const clock = new SetClock(t0);
    // no payment type defined here: orders stay unpaid
    const { call, order, start, pipeline, spool, services } = await pipelineSystem({ clock, only: ["cancel_unpaid_orders"] });
    for (const [name, { cron, ...options }] of Object.entries(pipeline.schedules!)) await spool.schedule(name, cron, options);
    const old = await call("POST", "/orders", order("U-1"));
    clock.t = t0 + 20 * 60_000;
    const young = await call("POST", "/orders", order("U-2"));
    clock.t = t0 + 31 * 60_000;
    await start();

    await waitFor("the old order cancelled", async () => (await services.orders.get(old.body.id))!.status === "cancelled");
    expect((await services.orders.get(old.body.id))!.reason).toBe("not paid within 30 minutes");
    await waitFor("its workflow cancelled", async () => (await spool.getWorkflow(old.body.workflowId))!.status === "cancelled");
    expect((await services.orders.get(young.body.id))!.status).toBe("received");
    expect((await spool.getWorkflow(young.body.workflowId))!.status).toBe("running");

    clock.t = t0 + 51 * 60_000;
    await waitFor("the younger order cancelled once it is 30 minutes old", async () => (await services.orders.get(young.body.id))!.status === "cancelled");
  });

  it("reports the day's orders by status from the daily schedule, read in Europe/Berlin", async () => {
    // only the report runs here, so both orders are still received when it counts
    const { call, order, spool, pipeline } = await pipelineSystem({ only: ["report_orders"] });
    expect(pipeline.schedules!.daily_order_report).toMatchObject({ cron: "0 0 * * *", timezone: "Europe/Berlin", type: "report_orders" });
    await call("POST", "/orders", order("R-1"));
    await call("POST", "/orders", order("R-2", { paymentToken: "decline_x" }));
    const { id } = await spool.enqueue("report_orders", null);
    await spool.start({ minPollMs: 5, maxPollMs: 20 });
    const job = await waitFor("the report", async () => {
      const j = await spool.getJob(id);
      return j?.status === "completed" ? j : null;
    });
    expect(job.result).toMatchObject({ orders: 2, byStatus: { received: 2 } });
  });
});
