/**
 * The bundled example: a small order-processing pipeline. With no SPOOL_JOBS,
 * the worker hosts it, so a newcomer sees jobs run at once:
 *
 *   curl -X POST localhost:8787/orders -d '{"orderId":"A-1","amountCents":1999,"email":"a@example.com"}'
 *
 * process_order charges the payment and chains send_order_confirmation, which
 * fans out to generate_invoice and sync_inventory. If payment fails nothing
 * downstream runs; the children are staged into the parent's completion.
 */
import { defineWorker } from "../define-worker.ts";
import { PermanentError } from "../core/errors.ts";

interface Order {
  orderId: string;
  amountCents: number;
  email: string;
}

function checkOrder(value: unknown): Order {
  const o = value as Partial<Order> | null;
  if (!o || typeof o.orderId !== "string" || typeof o.amountCents !== "number" || typeof o.email !== "string") {
    throw new PermanentError("an order needs orderId (string), amountCents (number) and email (string)");
  }
  return o as Order;
}

export default defineWorker({
  jobs: {
    process_order: {
      maxAttempts: 5,
      timeoutMs: 10_000,
      handler: async (payload, ctx) => {
        const order = checkOrder(payload);
        if (order.amountCents <= 0) throw new PermanentError(`order ${order.orderId}: amount must be positive`);
        ctx.enqueue("send_order_confirmation", order, { idempotencyKey: `confirm:${order.orderId}` });
        return { charged: order.amountCents };
      },
    },
    send_order_confirmation: {
      maxAttempts: 3,
      handler: async (payload, ctx) => {
        const order = checkOrder(payload);
        ctx.enqueue("generate_invoice", { orderId: order.orderId, amountCents: order.amountCents });
        ctx.enqueue("sync_inventory", { orderId: order.orderId });
      },
    },
    generate_invoice: {
      handler: async (payload: { orderId: string }) => ({ invoice: `INV-${payload.orderId}` }),
    },
    sync_inventory: {
      handler: async () => undefined,
    },
  },
  routes: [
    async (request, spool) => {
      const url = new URL(request.url);
      if (url.pathname !== "/orders" || request.method !== "POST") return undefined;
      let order: Order;
      try {
        order = checkOrder(await request.json());
      } catch (error) {
        const message = error instanceof PermanentError ? error.message : "body must be a JSON order";
        return Response.json({ error: { code: "INVALID_BODY", message } }, { status: 400 });
      }
      const job = await spool.enqueue("process_order", order, { idempotencyKey: `order:${order.orderId}` });
      return Response.json({ orderId: order.orderId, jobId: job.id, deduplicated: job.deduplicated }, { status: 202 });
    },
  ],
});
