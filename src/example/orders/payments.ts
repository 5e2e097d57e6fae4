/**
 * A simulated payment provider, as naive as a real card API: every `charge`
 * takes money, so charging one order twice is possible and is counted
 * (`doubleCharged`). Keeping that from happening is the caller's job (the
 * idempotent-jobs chapter). Tokens decide the outcome:
 *
 * - `decline_...`: declined, for good (`PaymentDeclined`);
 * - `flaky_...`: the provider is unavailable the first two times a token is
 *   used (`PaymentUnavailable`), then the charge goes through;
 * - anything else: charged.
 *
 * State lives in two tables of the Spool's database, so every worker process
 * sees the same charges.
 */
import type { SqlExecutor } from "../../index.ts";

/** The card was declined; trying again will not help. */
export class PaymentDeclined extends Error {
  override name = "PaymentDeclined";
}

/** The provider did not answer this time; trying again later may. */
export class PaymentUnavailable extends Error {
  override name = "PaymentUnavailable";
}

export interface Charge {
  id: string;
  orderId: string;
  amountCents: number;
  status: "captured" | "refunded";
  createdAt: number;
}

/** How many times a `flaky_` token fails before it is charged. */
export const FLAKY_FAILURES = 2;

export interface PaymentsOptions {
  /** How long a charge takes, in ms. Default 0. */
  latencyMs?: number;
  /** Waits `ms` (the Spool's clock, in the pipeline). Default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export class Payments {
  /** Charges in progress in this process now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  readonly #sql: SqlExecutor;
  readonly #now: () => number;
  readonly #latencyMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(sql: SqlExecutor, now: () => number, options: PaymentsOptions = {}) {
    this.#sql = sql;
    this.#now = now;
    this.#latencyMs = options.latencyMs ?? 0;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Creates the provider's tables; safe to run again and from several processes. */
  async migrate(): Promise<void> {
    await this.#sql.batch([
      {
        sql: `CREATE TABLE IF NOT EXISTS payment_charges (
          id TEXT PRIMARY KEY, order_id TEXT NOT NULL, token TEXT NOT NULL, amount_cents INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status = 'captured' OR status = 'refunded'), created_at INTEGER NOT NULL)`,
      },
      { sql: "CREATE INDEX IF NOT EXISTS payment_charges_order ON payment_charges (order_id)" },
      { sql: "CREATE TABLE IF NOT EXISTS payment_attempts (token TEXT PRIMARY KEY, attempts INTEGER NOT NULL)" },
    ]);
  }

  /**
   * Charges `amountCents` to `token` for `orderId` and returns the charge.
   * Throws PaymentDeclined for a `decline_` token and PaymentUnavailable for
   * the first two uses of a `flaky_` token. Not idempotent: two calls, two charges.
   */
  async charge(input: { orderId: string; token: string; amountCents: number }): Promise<Charge> {
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      if (this.#latencyMs > 0) await this.#sleep(this.#latencyMs);
      return await this.#charge(input);
    } finally {
      this.inFlight--;
    }
  }

  async #charge(input: { orderId: string; token: string; amountCents: number }): Promise<Charge> {
    const [attempt] = (
      await this.#sql.execute(
        `INSERT INTO payment_attempts (token, attempts) VALUES (?, 1)
         ON CONFLICT (token) DO UPDATE SET attempts = attempts + 1 RETURNING attempts`,
        [input.token],
      )
    ).rows;
    if (input.token.startsWith("decline_")) throw new PaymentDeclined(`card ${input.token} declined`);
    if (input.token.startsWith("flaky_") && Number(attempt!.attempts) <= FLAKY_FAILURES) {
      throw new PaymentUnavailable(`payment provider unavailable (try ${attempt!.attempts} of token ${input.token})`);
    }
    const charge: Charge = {
      id: `ch_${crypto.randomUUID()}`,
      orderId: input.orderId,
      amountCents: input.amountCents,
      status: "captured",
      createdAt: this.#now(),
    };
    await this.#sql.execute(
      "INSERT INTO payment_charges (id, order_id, token, amount_cents, status, created_at) VALUES (?, ?, ?, ?, 'captured', ?)",
      [charge.id, charge.orderId, input.token, charge.amountCents, charge.createdAt],
    );
    return charge;
  }

  /** Gives a captured charge's money back. Returns false when there is no such captured charge. */
  async refund(chargeId: string): Promise<boolean> {
    const { rowsAffected } = await this.#sql.execute("UPDATE payment_charges SET status = 'refunded' WHERE id = ? AND status = 'captured'", [chargeId]);
    return rowsAffected === 1;
  }

  /** The captured charge of an order, or null: what a retried payment step looks at before charging. */
  async capturedFor(orderId: string): Promise<Charge | null> {
    const { rows } = await this.#sql.execute(
      "SELECT id, order_id, amount_cents, status, created_at FROM payment_charges WHERE order_id = ? AND status = 'captured' ORDER BY created_at LIMIT 1",
      [orderId],
    );
    return rows[0] ? toCharge(rows[0]) : null;
  }

  /** Captured charges in all. */
  async countCaptured(): Promise<number> {
    const { rows } = await this.#sql.execute("SELECT COUNT(*) AS n FROM payment_charges WHERE status = 'captured'");
    return Number(rows[0]!.n);
  }

  /** Orders holding more than one captured charge, with how many: empty when nobody paid twice. */
  async doubleCharged(): Promise<Array<{ orderId: string; charges: number }>> {
    const { rows } = await this.#sql.execute(
      "SELECT order_id, COUNT(*) AS n FROM payment_charges WHERE status = 'captured' GROUP BY order_id HAVING COUNT(*) > 1 ORDER BY order_id",
    );
    return rows.map((r) => ({ orderId: String(r.order_id), charges: Number(r.n) }));
  }
}

function toCharge(row: Record<string, unknown>): Charge {
  return {
    id: String(row.id),
    orderId: String(row.order_id),
    amountCents: Number(row.amount_cents),
    status: row.status as Charge["status"],
    createdAt: Number(row.created_at),
  };
}
