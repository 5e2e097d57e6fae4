/**
 * A simulated warehouse that is told which orders to ship. Like a real
 * webhook it would take the same order twice; the table keeps every
 * notification, so notifying twice is countable (`duplicates`).
 */
import type { SqlExecutor } from "../../index.ts";

export class Warehouse {
  readonly #sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.#sql = sql;
  }

  async migrate(): Promise<void> {
    await this.#sql.batch([
      {
        sql: `CREATE TABLE IF NOT EXISTS warehouse_notifications (
          id INTEGER PRIMARY KEY, order_id TEXT NOT NULL, invoice TEXT, notified_at INTEGER NOT NULL)`,
      },
      { sql: "CREATE INDEX IF NOT EXISTS warehouse_notifications_order ON warehouse_notifications (order_id)" },
    ]);
  }

  /** Tells the warehouse to ship `orderId`. Not idempotent: each call is one more notification. */
  async notify(orderId: string, invoice: string | null, at: number): Promise<void> {
    await this.#sql.execute("INSERT INTO warehouse_notifications (order_id, invoice, notified_at) VALUES (?, ?, ?)", [orderId, invoice, at]);
  }

  /** How many notifications `orderId` got. */
  async notificationsFor(orderId: string): Promise<number> {
    const { rows } = await this.#sql.execute("SELECT COUNT(*) AS n FROM warehouse_notifications WHERE order_id = ?", [orderId]);
    return Number(rows[0]!.n);
  }

  /** Notifications in all. */
  async count(): Promise<number> {
    const { rows } = await this.#sql.execute("SELECT COUNT(*) AS n FROM warehouse_notifications");
    return Number(rows[0]!.n);
  }

  /** Orders notified more than once, with how many times. */
  async duplicates(): Promise<Array<{ orderId: string; notifications: number }>> {
    const { rows } = await this.#sql.execute(
      "SELECT order_id, COUNT(*) AS n FROM warehouse_notifications GROUP BY order_id HAVING COUNT(*) > 1 ORDER BY order_id",
    );
    return rows.map((r) => ({ orderId: String(r.order_id), notifications: Number(r.n) }));
  }
}
