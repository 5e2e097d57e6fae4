/**
 * A simulated stock keeper: the catalogue (prices) and stock of each SKU in
 * a table, and `reserve`, which takes an order's items out of stock all at
 * once or not at all. Reserving the same order again once it succeeded
 * changes nothing, so a retried step cannot take stock twice. Too little stock of any item is
 * `OutOfStock`: a permanent failure, as waiting does not bring stock back.
 */
import type { SqlExecutor } from "../../index.ts";

export class OutOfStock extends Error {
  override name = "OutOfStock";
}

export interface CatalogueItem {
  sku: string;
  name: string;
  priceCents: number;
  stock: number;
}

export interface OrderItem {
  sku: string;
  qty: number;
}

/**
 * What a fresh database starts with. `vinyl-first-press` is sold out, so
 * ordering it shows an order failing in the inventory step.
 */
export const CATALOGUE: readonly CatalogueItem[] = [
  { sku: "mug", name: "Spool mug", priceCents: 1200, stock: 1_000_000 },
  { sku: "tshirt", name: "Spool T-shirt", priceCents: 2500, stock: 1_000_000 },
  { sku: "poster", name: "Queue diagram poster", priceCents: 900, stock: 1_000_000 },
  { sku: "sticker", name: "Sticker pack", priceCents: 300, stock: 1_000_000 },
  { sku: "vinyl-first-press", name: "Soundtrack, first press", priceCents: 4500, stock: 0 },
];

export class Inventory {
  readonly #sql: SqlExecutor;

  constructor(sql: SqlExecutor) {
    this.#sql = sql;
  }

  /** Creates the tables and adds the catalogue's SKUs that are missing (stock already there is kept). */
  async migrate(catalogue: readonly CatalogueItem[] = CATALOGUE): Promise<void> {
    await this.#sql.batch([
      {
        sql: `CREATE TABLE IF NOT EXISTS inventory (
          sku TEXT PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL, stock INTEGER NOT NULL CHECK (stock >= 0))`,
      },
      { sql: "CREATE TABLE IF NOT EXISTS stock_reservations (order_id TEXT PRIMARY KEY, items TEXT NOT NULL, short TEXT NOT NULL, applied INTEGER NOT NULL)" },
      ...catalogue.map((item) => ({
        sql: "INSERT INTO inventory (sku, name, price_cents, stock) VALUES (?, ?, ?, ?) ON CONFLICT (sku) DO NOTHING",
        args: [item.sku, item.name, item.priceCents, item.stock],
      })),
    ]);
  }

  /** Prices of the SKUs asked for that exist, by SKU. */
  async prices(skus: readonly string[]): Promise<Map<string, number>> {
    const { rows } = await this.#sql.execute(
      "SELECT sku, price_cents FROM inventory WHERE sku IN (SELECT value FROM json_each(?))",
      [JSON.stringify(skus)],
    );
    return new Map(rows.map((r) => [String(r.sku), Number(r.price_cents)]));
  }

  /** Units of `sku` in stock, or null for an unknown SKU. */
  async stock(sku: string): Promise<number | null> {
    const { rows } = await this.#sql.execute("SELECT stock FROM inventory WHERE sku = ?", [sku]);
    return rows[0] ? Number(rows[0].stock) : null;
  }

  /** Sets the stock of a SKU (the demo and tests use it). */
  async setStock(sku: string, stock: number): Promise<void> {
    await this.#sql.execute("UPDATE inventory SET stock = ? WHERE sku = ?", [stock, sku]);
  }

  /**
   * Takes `items` (distinct SKUs) out of stock for `orderId`, all or none, in
   * one transaction. Idempotent per order: once reserved, a second call
   * answers as the first did and takes nothing; a refused order is checked
   * again. Throws OutOfStock naming the SKUs short of stock.
   */
  async reserve(orderId: string, items: readonly OrderItem[]): Promise<{ reserved: number }> {
    const args = { order: orderId, items: JSON.stringify(items) };
    // The call decides, inside the transaction, which items are short and
    // only when none is takes the stock; after a reservation, later calls
    // find it applied and change nothing.
    const [, , , , decided] = await this.#sql.batch([
      // a refusal is not kept: run again after a restock, the order is decided anew
      { sql: "DELETE FROM stock_reservations WHERE order_id = :order AND short <> '[]'", args: { order: orderId } },
      {
        sql: `INSERT INTO stock_reservations (order_id, items, short, applied)
              SELECT :order, :items, (
                SELECT json_group_array(i.value ->> 'sku') FROM json_each(:items) i LEFT JOIN inventory s ON s.sku = i.value ->> 'sku'
                WHERE s.sku IS NULL OR s.stock < i.value ->> 'qty'), 0
              WHERE NOT EXISTS (SELECT 1 FROM stock_reservations WHERE order_id = :order)`,
        args,
      },
      {
        sql: `UPDATE inventory SET stock = stock - (SELECT i.value ->> 'qty' FROM json_each(:items) i WHERE i.value ->> 'sku' = inventory.sku)
              WHERE sku IN (SELECT value ->> 'sku' FROM json_each(:items))
                AND EXISTS (SELECT 1 FROM stock_reservations WHERE order_id = :order AND applied = 0 AND short = '[]')`,
        args,
      },
      { sql: "UPDATE stock_reservations SET applied = 1 WHERE order_id = :order", args: { order: orderId } },
      { sql: "SELECT items, short FROM stock_reservations WHERE order_id = :order", args: { order: orderId } },
    ]);
    const row = decided!.rows[0]!;
    const short = JSON.parse(String(row.short)) as string[];
    if (short.length > 0) throw new OutOfStock(`order ${orderId}: out of stock: ${short.join(", ")}`);
    return { reserved: (JSON.parse(String(row.items)) as OrderItem[]).reduce((sum, i) => sum + i.qty, 0) };
  }
}
