/**
 * The `orders` table: one row per order, its status moved forward by the
 * pipeline's steps. Status changes are conditional on the status before, so
 * a late step never undoes a later one (an invoice finishing after the
 * inventory step failed leaves the order `failed`), and a step retried after
 * its change was written changes nothing.
 *
 *   received -> paid -> invoiced -> ready_to_ship
 *   received -> payment_declined | cancelled (unpaid too long)
 *   received | paid | invoiced -> failed -> paid (the payment step run again)
 */
import type { SqlExecutor } from "../../index.ts";
import type { OrderItem } from "./inventory.ts";
import type { OrderRequest } from "./order-request.ts";

export type OrderStatus = "received" | "paid" | "invoiced" | "ready_to_ship" | "payment_declined" | "failed" | "cancelled";

export const ORDER_STATUSES: readonly OrderStatus[] = ["received", "paid", "invoiced", "ready_to_ship", "payment_declined", "failed", "cancelled"];

/** Statuses an order does not leave. */
export const FINAL_ORDER_STATUSES: readonly OrderStatus[] = ["ready_to_ship", "payment_declined", "failed", "cancelled"];

/** From which statuses each status may be reached. */
const FROM: Record<Exclude<OrderStatus, "received">, readonly OrderStatus[]> = {
  // from failed: a payment step run again by hand after its retries ran out
  paid: ["received", "failed"],
  invoiced: ["paid"],
  ready_to_ship: ["invoiced"],
  payment_declined: ["received"],
  cancelled: ["received"],
  failed: ["received", "paid", "invoiced"],
};

export interface Order {
  id: string;
  clientOrderId: string;
  email: string;
  items: OrderItem[];
  paymentToken: string;
  express: boolean;
  amountCents: number;
  status: OrderStatus;
  /** Why it was declined, failed or cancelled; null otherwise. */
  reason: string | null;
  workflowId: string | null;
  chargeId: string | null;
  invoice: string | null;
  createdAt: number;
  updatedAt: number;
  /** When the warehouse was told to ship it. */
  shippedAt: number | null;
}

const COLUMNS = `id, client_order_id, email, items, payment_token, express, amount_cents, status, reason, workflow_id,
  charge_id, invoice, created_at, updated_at, shipped_at`;

export class Orders {
  readonly #sql: SqlExecutor;
  readonly #now: () => number;

  constructor(sql: SqlExecutor, now: () => number) {
    this.#sql = sql;
    this.#now = now;
  }

  async migrate(): Promise<void> {
    await this.#sql.batch([
      {
        sql: `CREATE TABLE IF NOT EXISTS orders (
          id TEXT PRIMARY KEY, client_order_id TEXT NOT NULL UNIQUE, email TEXT NOT NULL, items TEXT NOT NULL,
          payment_token TEXT NOT NULL, express INTEGER NOT NULL, amount_cents INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status IN (${ORDER_STATUSES.map((s) => `'${s}'`).join(", ")})),
          reason TEXT, workflow_id TEXT, charge_id TEXT, invoice TEXT,
          created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, shipped_at INTEGER)`,
      },
      // the unpaid-order sweep reads received orders oldest first
      { sql: "CREATE INDEX IF NOT EXISTS orders_status_created ON orders (status, created_at)" },
    ]);
  }

  /**
   * Stores a new order, or returns the one already stored under its
   * clientOrderId (`created: false`) whatever this request says.
   */
  async place(request: OrderRequest, amountCents: number): Promise<{ order: Order; created: boolean }> {
    const now = this.#now();
    const id = `ord_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const [inserted, read] = await this.#sql.batch([
      {
        sql: `INSERT INTO orders (id, client_order_id, email, items, payment_token, express, amount_cents, status, created_at, updated_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, 'received', ?, ?) ON CONFLICT (client_order_id) DO NOTHING`,
        args: [id, request.clientOrderId, request.email, JSON.stringify(request.items), request.paymentToken, request.express ? 1 : 0, amountCents, now, now],
      },
      { sql: `SELECT ${COLUMNS} FROM orders WHERE client_order_id = ?`, args: [request.clientOrderId] },
    ]);
    return { order: toOrder(read!.rows[0]!), created: inserted!.rowsAffected === 1 };
  }

  async get(id: string): Promise<Order | null> {
    const { rows } = await this.#sql.execute(`SELECT ${COLUMNS} FROM orders WHERE id = ?`, [id]);
    return rows[0] ? toOrder(rows[0]) : null;
  }

  /** Records the workflow that processes the order (the same one for a double submit). */
  async setWorkflow(id: string, workflowId: string): Promise<void> {
    await this.#sql.execute("UPDATE orders SET workflow_id = ? WHERE id = ? AND workflow_id IS NULL", [workflowId, id]);
  }

  /**
   * Moves the order to `status` if it is in one of the statuses that may
   * precede it; sets the given columns with it. Returns whether it moved.
   */
  async advance(
    id: string,
    status: Exclude<OrderStatus, "received">,
    set: { reason?: string; chargeId?: string; invoice?: string; shippedAt?: number } = {},
  ): Promise<boolean> {
    const from = FROM[status];
    const { rowsAffected } = await this.#sql.execute(
      `UPDATE orders SET status = ?, updated_at = ?, reason = coalesce(?, reason), charge_id = coalesce(?, charge_id),
         invoice = coalesce(?, invoice), shipped_at = coalesce(?, shipped_at)
       WHERE id = ? AND status IN (SELECT value FROM json_each(?))`,
      [status, this.#now(), set.reason ?? null, set.chargeId ?? null, set.invoice ?? null, set.shippedAt ?? null, id, JSON.stringify(from)],
    );
    return rowsAffected === 1;
  }

  /** Orders still `received` that were placed before `before`, oldest first, at most `limit`. */
  async unpaidSince(before: number, limit = 500): Promise<Order[]> {
    const { rows } = await this.#sql.execute(
      `SELECT ${COLUMNS} FROM orders WHERE status = 'received' AND created_at < ? ORDER BY created_at LIMIT ?`,
      [before, limit],
    );
    return rows.map(toOrder);
  }

  /** Orders placed in [from, to): how many by status, and what they were worth. */
  async report(from: number, to: number): Promise<{ orders: number; byStatus: Partial<Record<OrderStatus, number>>; revenueCents: number }> {
    const { rows } = await this.#sql.execute(
      `SELECT status, COUNT(*) AS n, SUM(amount_cents) AS cents FROM orders WHERE created_at >= ? AND created_at < ? GROUP BY status ORDER BY status`,
      [from, to],
    );
    const byStatus: Partial<Record<OrderStatus, number>> = {};
    let orders = 0;
    let revenueCents = 0;
    for (const r of rows) {
      byStatus[r.status as OrderStatus] = Number(r.n);
      orders += Number(r.n);
      if (["paid", "invoiced", "ready_to_ship"].includes(String(r.status))) revenueCents += Number(r.cents);
    }
    return { orders, byStatus, revenueCents };
  }

  /** Every order's count by status (all statuses, zeros included). */
  async countByStatus(): Promise<Record<OrderStatus, number>> {
    const { rows } = await this.#sql.execute("SELECT status, COUNT(*) AS n FROM orders GROUP BY status");
    const counts = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
    for (const r of rows) counts[r.status as OrderStatus] = Number(r.n);
    return counts;
  }
}

function toOrder(row: Record<string, unknown>): Order {
  const nullable = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: String(row.id),
    clientOrderId: String(row.client_order_id),
    email: String(row.email),
    items: JSON.parse(String(row.items)) as OrderItem[],
    paymentToken: String(row.payment_token),
    express: Number(row.express) === 1,
    amountCents: Number(row.amount_cents),
    status: row.status as OrderStatus,
    reason: nullable(row.reason),
    workflowId: nullable(row.workflow_id),
    chargeId: nullable(row.charge_id),
    invoice: nullable(row.invoice),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    shippedAt: row.shipped_at === null || row.shipped_at === undefined ? null : Number(row.shipped_at),
  };
}
