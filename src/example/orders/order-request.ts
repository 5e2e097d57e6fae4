/**
 * The body of `POST /orders`, checked field by field. A bad body yields the
 * field's path and what is wrong with it; the route answers 400 with both.
 */
import type { OrderItem } from "./inventory.ts";

export interface OrderRequest {
  /** The client's own id for the order; submitting it again returns the same order. */
  clientOrderId: string;
  items: OrderItem[];
  paymentToken: string;
  email: string;
  express: boolean;
}

/** Why a body is not an order: the field (`items[2].qty`) and the reason. */
export interface FieldProblem {
  field: string;
  message: string;
}

const MAX_ITEMS = 50;
const MAX_QTY = 1000;
const TEXT = /^[^\u0000-\u001f\u007f-\u009f]{1,200}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/;

/** The order in `body`, or the first field that is wrong. */
export function parseOrderRequest(body: unknown): OrderRequest | FieldProblem {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { field: "body", message: "must be a JSON object" };
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!["clientOrderId", "items", "paymentToken", "email", "express"].includes(key)) return { field: key, message: "is not a field of an order" };
  }
  if (typeof b.clientOrderId !== "string" || !TEXT.test(b.clientOrderId)) {
    return { field: "clientOrderId", message: "must be 1-200 characters without control characters" };
  }
  if (!Array.isArray(b.items) || b.items.length === 0 || b.items.length > MAX_ITEMS) {
    return { field: "items", message: `must be a list of 1-${MAX_ITEMS} { sku, qty }` };
  }
  const items: OrderItem[] = [];
  const seen = new Set<string>();
  for (const [i, item] of b.items.entries()) {
    const it = item as Record<string, unknown> | null;
    if (typeof it !== "object" || it === null || Array.isArray(it)) return { field: `items[${i}]`, message: "must be an object { sku, qty }" };
    if (typeof it.sku !== "string" || !TEXT.test(it.sku)) return { field: `items[${i}].sku`, message: "must be 1-200 characters" };
    if (seen.has(it.sku)) return { field: `items[${i}].sku`, message: `repeats ${JSON.stringify(it.sku)}; give each SKU once with its qty` };
    if (!Number.isInteger(it.qty) || (it.qty as number) < 1 || (it.qty as number) > MAX_QTY) {
      return { field: `items[${i}].qty`, message: `must be a whole number from 1 to ${MAX_QTY}` };
    }
    seen.add(it.sku);
    items.push({ sku: it.sku, qty: it.qty as number });
  }
  if (typeof b.paymentToken !== "string" || !TEXT.test(b.paymentToken)) {
    return { field: "paymentToken", message: "must be 1-200 characters without control characters" };
  }
  if (typeof b.email !== "string" || !EMAIL.test(b.email)) return { field: "email", message: "must be an email address" };
  if (b.express !== undefined && typeof b.express !== "boolean") return { field: "express", message: "must be true or false" };
  return { clientOrderId: b.clientOrderId, items, paymentToken: b.paymentToken, email: b.email, express: b.express === true };
}

export function isFieldProblem(value: OrderRequest | FieldProblem): value is FieldProblem {
  return "field" in value;
}
