/**
 * The order pipeline: the jobs module the worker hosts when SPOOL_JOBS is not
 * set, and the example the guide (docs/guide.md) walks through. Every
 * chapter of the course Spool grew from shows up here:
 *
 *   POST /orders ─> process_order ─> send_order_confirmation ─┬─> generate_invoice ─┐
 *   (validated,     (charges; 4 at    (mail fails? ctx.warn,  └─> sync_inventory ───┴─> notify_warehouse
 *    stored,         once, retried)    carry on; 20/s)             (out of stock:        (after both; runs
 *    idempotent)                                                   permanent)             even if one died)
 *
 * Steps pass only the order id; each reads the order from the `orders`
 * table, which the module keeps in the Spool's own database (`spool.sql`)
 * and creates in `setup`. Each step is safe to run twice: at-least-once
 * delivery means it may.
 */
import { PermanentError, SpoolError } from "../../core/errors.ts";
import type { JobContext } from "../../core/job-types.ts";
import { PRIORITY } from "../../core/options.ts";
import { type WorkerDefinition, defineWorker } from "../../define-worker.ts";
import type { Route, Spool } from "../../index.ts";
import { Inventory, OutOfStock } from "./inventory.ts";
import { Mailer, checkRate } from "./mailer.ts";
import { isFieldProblem, parseOrderRequest } from "./order-request.ts";
import { type Order, Orders } from "./orders.ts";
import { PaymentDeclined, Payments } from "./payments.ts";
import { Warehouse } from "./warehouse.ts";

export interface OrderPipelineOptions {
  /** Share of confirmation emails the simulated mailer fails, 0..1. Default 0.05. */
  mailFailureRate?: number;
  /** Randomness for the mailer, for tests. Default Math.random. */
  random?: () => number;
  /** Confirmation emails a second at most, across every worker. Default 20. */
  emailsPerSecond?: number;
  /** Payments in flight at most, across every worker. Default 4. */
  paymentConcurrency?: number;
  /** An order still unpaid this long after it was placed is cancelled. Default 30 minutes. */
  unpaidAfterMs?: number;
  /** First retry delay of a failed payment; doubles each time. Default 200 ms. */
  paymentRetryMs?: number;
  /** How long the simulated payment provider takes per charge. Default 0. */
  paymentLatencyMs?: number;
}

/** The services a pipeline's steps use, once `setup` has run. */
export interface OrderServices {
  spool: Spool;
  orders: Orders;
  payments: Payments;
  inventory: Inventory;
  warehouse: Warehouse;
  mailer: Mailer;
}

/** A jobs module with its services reachable, for tests and the demo's checks. */
export interface OrderPipeline extends WorkerDefinition {
  /** The services; throws before `setup` has run. */
  services(): OrderServices;
}

interface Step {
  orderId: string;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function problem(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

/**
 * Builds the pipeline. The worker hosts `createOrderPipeline()` (the default
 * export of jobs.ts); tests build their own with other failure rates. Throws
 * RangeError for an option out of range.
 */
export function createOrderPipeline(options: OrderPipelineOptions = {}): OrderPipeline {
  const mailFailureRate = checkRate(options.mailFailureRate ?? 0.05);
  const unpaidAfterMs = options.unpaidAfterMs ?? 30 * MINUTE;
  let services: OrderServices | null = null;
  const app = (): OrderServices => {
    if (!services) throw new Error("the order pipeline is not set up: call its setup(spool) before running its jobs or routes");
    return services;
  };
  // #region priority
  const priorityOf = (order: Order) => (order.express ? PRIORITY.HIGH : PRIORITY.NORMAL);
  // #endregion priority
  const loadOrder = async (orderId: string): Promise<Order> => {
    const order = await app().orders.get(orderId);
    if (!order) throw new PermanentError(`order ${orderId} does not exist`);
    return order;
  };

  // #region process_order
  async function processOrder({ orderId }: Step, ctx: JobContext): Promise<{ chargeId: string; amountCents: number }> {
    const { orders, payments } = app();
    const order = await loadOrder(orderId);
    if (order.status === "cancelled") throw new PermanentError(`order ${orderId} was cancelled before it was paid`);
    // Idempotent: a retry after the charge went through (a crash, a lost
    // lease) finds the charge instead of charging again.
    let charge = await payments.capturedFor(orderId);
    if (!charge) {
      try {
        charge = await payments.charge({ orderId, token: order.paymentToken, amountCents: order.amountCents });
      } catch (error) {
        if (error instanceof PaymentDeclined) {
          await orders.advance(orderId, "payment_declined", { reason: error.message });
          throw new PermanentError(error.message); // no retry, nothing downstream
        }
        if (ctx.attempt >= ctx.job.maxAttempts) await orders.advance(orderId, "failed", { reason: (error as Error).message });
        throw error; // retried with backoff until the attempts run out
      }
    }
    if (!(await orders.advance(orderId, "paid", { chargeId: charge.id })) && (await loadOrder(orderId)).status === "cancelled") {
      await payments.refund(charge.id); // cancelled while we charged
      throw new PermanentError(`order ${orderId} was cancelled while it was being paid; charge ${charge.id} refunded`);
    }
    ctx.enqueue("send_order_confirmation", { orderId }, { priority: priorityOf(order) });
    return { chargeId: charge.id, amountCents: charge.amountCents };
  }
  // #endregion process_order

  // #region send_order_confirmation
  async function sendOrderConfirmation({ orderId }: Step, ctx: JobContext): Promise<{ emailed: boolean }> {
    const order = await loadOrder(orderId);
    let emailed = true;
    try {
      await app().mailer.send({ to: order.email, subject: `Order ${order.clientOrderId} confirmed` });
    } catch (error) {
      // Nice to have: a lost email is recorded and the order goes on.
      emailed = false;
      ctx.warn(`confirmation email to ${order.email} not sent: ${(error as Error).message}`);
    }
    const priority = priorityOf(order);
    const invoice = ctx.enqueue("generate_invoice", { orderId }, { priority });
    const inventory = ctx.enqueue("sync_inventory", { orderId }, { priority });
    ctx.enqueue("notify_warehouse", { orderId }, { priority, after: [invoice, inventory], onDependencyFailure: "run" });
    return { emailed };
  }
  // #endregion send_order_confirmation

  async function generateInvoice({ orderId }: Step): Promise<{ invoice: string }> {
    const order = await loadOrder(orderId);
    const invoice = order.invoice ?? `INV-${order.clientOrderId}`;
    await app().orders.advance(orderId, "invoiced", { invoice });
    return { invoice };
  }

  async function syncInventory({ orderId }: Step): Promise<{ reserved: number }> {
    const order = await loadOrder(orderId);
    try {
      return await app().inventory.reserve(orderId, order.items);
    } catch (error) {
      if (error instanceof OutOfStock) throw new PermanentError(error.message); // waiting brings no stock
      throw error;
    }
  }

  // #region notify_warehouse
  async function notifyWarehouse({ orderId }: Step, ctx: JobContext): Promise<{ shipped: boolean; invoice: string | null }> {
    const { orders, warehouse, spool } = app();
    const dependencies = await ctx.dependencies();
    const failed = dependencies.find((d) => d.status !== "completed");
    if (failed) {
      const job = await spool.getJob(failed.id);
      await orders.advance(orderId, "failed", { reason: `${failed.type} ${failed.status}: ${job?.lastError ?? "no error recorded"}` });
      return { shipped: false, invoice: null };
    }
    const invoice = (dependencies.find((d) => d.type === "generate_invoice")?.result as { invoice: string }).invoice;
    // Idempotent: a retried step does not tell the warehouse twice.
    if ((await warehouse.notificationsFor(orderId)) === 0) await warehouse.notify(orderId, invoice, spool.clock.now());
    await orders.advance(orderId, "ready_to_ship", { shippedAt: spool.clock.now() });
    return { shipped: true, invoice };
  }
  // #endregion notify_warehouse

  // #region cancel_unpaid_orders
  async function cancelUnpaidOrders(): Promise<{ cancelled: string[] }> {
    const { orders, spool } = app();
    const cancelled: string[] = [];
    for (const order of await orders.unpaidSince(spool.clock.now() - unpaidAfterMs)) {
      if (!(await orders.advance(order.id, "cancelled", { reason: `not paid within ${unpaidAfterMs / MINUTE} minutes` }))) continue;
      cancelled.push(order.id);
      if (order.workflowId === null) continue;
      try {
        await spool.cancelWorkflow(order.workflowId);
      } catch (error) {
        // it finished meanwhile: the payment step saw the cancellation and refunded
        if (!(error instanceof SpoolError)) throw error;
      }
    }
    return { cancelled };
  }
  // #endregion cancel_unpaid_orders

  async function reportOrders(_payload: unknown, ctx: JobContext) {
    const { orders, spool } = app();
    const to = ctx.job.scheduledFor ?? spool.clock.now();
    return { from: to - DAY, to, ...(await orders.report(to - DAY, to)) };
  }

  // #region place_order
  const placeOrder: Route = async (request, spool) => {
    if (new URL(request.url).pathname !== "/orders" || request.method !== "POST") return undefined;
    const text = await request.text(); // an over-long body throws here and is answered 413
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return problem(400, "INVALID_BODY", "field body: must be a JSON object");
    }
    const parsed = parseOrderRequest(body);
    if (isFieldProblem(parsed)) return problem(400, "INVALID_BODY", `field ${parsed.field}: ${parsed.message}`);
    const prices = await app().inventory.prices(parsed.items.map((i) => i.sku));
    const unknown = parsed.items.findIndex((i) => !prices.has(i.sku));
    if (unknown >= 0) return problem(400, "INVALID_BODY", `field items[${unknown}].sku: no product ${JSON.stringify(parsed.items[unknown]!.sku)}`);
    const amountCents = parsed.items.reduce((sum, i) => sum + prices.get(i.sku)! * i.qty, 0);

    const { order, created } = await app().orders.place(parsed, amountCents);
    // The same clientOrderId starts the same workflow: a double submit finds
    // the first one's job through the idempotency key, and nothing is charged twice.
    // #region start_workflow
    const { workflowId } = await spool.startWorkflow("process_order", { orderId: order.id }, {
      idempotencyKey: parsed.clientOrderId,
      priority: priorityOf(order),
    });
    // #endregion start_workflow
    await app().orders.setWorkflow(order.id, workflowId);
    return Response.json({ ...publicOrder({ ...order, workflowId }), deduplicated: !created }, { status: created ? 202 : 200 });
  };
  // #endregion place_order

  // #region show_order
  const showOrder: Route = async (request, spool) => {
    const match = /^\/orders\/([^/]+)$/.exec(new URL(request.url).pathname);
    if (!match || request.method !== "GET") return undefined;
    const id = decodeURIComponent(match[1]!);
    if (id === "stats") return Response.json(await stats());
    const order = await app().orders.get(id);
    if (!order) return problem(404, "ORDER_NOT_FOUND", `no order has id ${JSON.stringify(id)}`);
    const workflow = order.workflowId === null ? null : await spool.getWorkflow(order.workflowId);
    return Response.json({
      ...publicOrder(order),
      workflow: workflow && {
        id: workflow.id,
        status: workflow.status,
        createdAt: workflow.createdAt,
        finishedAt: workflow.finishedAt,
        counts: workflow.counts,
        steps: workflow.jobs.map((j) => ({ id: j.id, type: j.type, status: j.status, attempts: j.attempts, after: j.after, lastError: j.lastError, warnings: j.warnings })),
      },
    });
  };
  // #endregion show_order

  async function stats() {
    const { orders, payments, warehouse, mailer } = app();
    return {
      orders: await orders.countByStatus(),
      charges: { captured: await payments.countCaptured(), doubleCharged: await payments.doubleCharged() },
      warehouse: { notifications: await warehouse.count(), duplicates: await warehouse.duplicates() },
      emails: { sent: mailer.sent.length },
    };
  }

  const definition = defineWorker({
    jobs: {
      // #region payment_options
      process_order: {
        handler: processOrder,
        concurrency: options.paymentConcurrency ?? 4, // the payment provider allows 4 calls at once
        maxAttempts: 5,
        backoff: { type: "exponential", baseMs: options.paymentRetryMs ?? 200 },
        timeoutMs: 10_000,
      },
      // #endregion payment_options
      // #region email_options
      send_order_confirmation: {
        handler: sendOrderConfirmation,
        rateLimit: { limit: options.emailsPerSecond ?? 20, intervalMs: 1000 }, // the mail provider's quota
        maxAttempts: 3,
      },
      // #endregion email_options
      generate_invoice: { handler: generateInvoice },
      sync_inventory: { handler: syncInventory },
      notify_warehouse: { handler: notifyWarehouse },
      cancel_unpaid_orders: { handler: cancelUnpaidOrders, maxAttempts: 1 },
      report_orders: { handler: reportOrders },
    },
    // #region schedules
    schedules: {
      // every minute: orders placed over 30 minutes ago and still unpaid are cancelled
      cancel_unpaid_orders: { cron: "* * * * *", type: "cancel_unpaid_orders", noOverlap: true },
      // at midnight in Berlin: the day that just ended, by status, with its revenue
      daily_order_report: { cron: "0 0 * * *", timezone: "Europe/Berlin", type: "report_orders" },
    },
    // #endregion schedules
    routes: [placeOrder, showOrder],
    // #region setup
    async setup(spool: Spool) {
      const now = () => spool.clock.now();
      const ready: OrderServices = {
        spool,
        orders: new Orders(spool.sql, now),
        payments: new Payments(spool.sql, now, { latencyMs: options.paymentLatencyMs, sleep: (ms) => spool.clock.sleep(ms) }),
        inventory: new Inventory(spool.sql),
        warehouse: new Warehouse(spool.sql),
        mailer: new Mailer({ failureRate: mailFailureRate, random: options.random, now }),
      };
      for (const service of [ready.orders, ready.payments, ready.inventory, ready.warehouse]) await service.migrate();
      services = ready;
    },
    // #endregion setup
  });
  return { ...definition, services: app };
}

/** An order as the API shows it: everything but the payment token. */
function publicOrder(order: Order) {
  const { paymentToken: _token, ...rest } = order;
  return rest;
}
