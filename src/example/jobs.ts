/**
 * The bundled example: an order-processing workflow. With no SPOOL_JOBS, the
 * worker hosts it, so a newcomer sees jobs run at once:
 *
 *   curl -X POST localhost:8787/orders -H 'content-type: application/json' \
 *        -d '{"orderId":"A-1","amountCents":1999,"email":"a@example.com"}'
 *   curl localhost:8787/workflows/<workflowId>
 *
 * process_order charges the payment and chains send_order_confirmation. That
 * step tries the email and, when it fails, records a warning and carries on
 * (the email is nice to have); then it fans out to generate_invoice and
 * sync_inventory, which run independently, and fans in to notify_warehouse
 * after both, which reads their results. If payment fails nothing downstream
 * runs: children are staged into the parent's completion, so a step that
 * dies stages nothing. An address at the reserved `.invalid` domain stands
 * for a mail server that refuses it; an amount of 0 or less for a declined card.
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

/** Stands in for a mail provider: addresses at the reserved .invalid domain are refused. */
async function sendEmail(to: string, subject: string): Promise<void> {
  if (to.endsWith(".invalid")) throw new Error(`mail server refused ${to} (${subject})`);
}

export default defineWorker({
  jobs: {
    process_order: {
      maxAttempts: 5,
      timeoutMs: 10_000,
      handler: async (payload, ctx) => {
        const order = checkOrder(payload);
        if (order.amountCents <= 0) throw new PermanentError(`order ${order.orderId}: payment declined for amount ${order.amountCents}`);
        ctx.enqueue("send_order_confirmation", order);
        return { charged: order.amountCents };
      },
    },
    send_order_confirmation: {
      maxAttempts: 3,
      handler: async (payload, ctx) => {
        const order = checkOrder(payload);
        let emailed = true;
        try {
          await sendEmail(order.email, `order ${order.orderId} confirmed`);
        } catch (error) {
          // conditional chaining: a lost email must not stop invoicing or the inventory sync
          emailed = false;
          ctx.warn(`confirmation email for order ${order.orderId} not sent: ${(error as Error).message}`);
        }
        const invoice = ctx.enqueue("generate_invoice", { orderId: order.orderId, amountCents: order.amountCents });
        const inventory = ctx.enqueue("sync_inventory", { orderId: order.orderId });
        ctx.enqueue("notify_warehouse", { orderId: order.orderId }, { after: [invoice, inventory] });
        return { emailed };
      },
    },
    generate_invoice: {
      handler: async (payload: { orderId: string; amountCents: number }) => ({
        invoice: `INV-${payload.orderId}`,
        amountCents: payload.amountCents,
      }),
    },
    sync_inventory: {
      handler: async (payload: { orderId: string }) => ({ reserved: true, orderId: payload.orderId }),
    },
    notify_warehouse: {
      handler: async (payload: { orderId: string }, ctx) => {
        const results = new Map((await ctx.dependencies()).map((d) => [d.type, d.result as Record<string, unknown> | null]));
        return {
          orderId: payload.orderId,
          invoice: results.get("generate_invoice")?.invoice ?? null,
          inventoryReserved: results.get("sync_inventory")?.reserved === true,
        };
      },
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
      const started = await spool.startWorkflow("process_order", order, { idempotencyKey: `order:${order.orderId}` });
      return Response.json({ orderId: order.orderId, workflowId: started.workflowId, id: started.id }, { status: 202 });
    },
  ],
});
