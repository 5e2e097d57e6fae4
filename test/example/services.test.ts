/**
 * The order pipeline's simulated services on a real database file, through
 * spool.sql: payments decline, flake and count double charges; stock is
 * reserved all or nothing, once per order; the warehouse counts every
 * notification; the mailer fails at its set rate.
 */
import { afterEach, describe, expect, it } from "vitest";
import { CATALOGUE, Inventory, OutOfStock } from "../../src/example/orders/inventory.ts";
import { MailFailed, Mailer } from "../../src/example/orders/mailer.ts";
import { FLAKY_FAILURES, PaymentDeclined, PaymentUnavailable, Payments } from "../../src/example/orders/payments.ts";
import { Warehouse } from "../../src/example/orders/warehouse.ts";
import { openSpool } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function database() {
  const { spool, cleanup } = await openSpool();
  cleanups.push(cleanup);
  return spool.sql;
}

describe("the payment service", () => {
  it("charges a good token, declines a decline_ token for good, and fails a flaky_ token twice before charging it", async () => {
    const payments = new Payments(await database(), () => 1000);
    await payments.migrate();
    await payments.migrate(); // again, as a second process would

    const charge = await payments.charge({ orderId: "o1", token: "tok_visa", amountCents: 500 });
    expect(charge).toMatchObject({ orderId: "o1", amountCents: 500, status: "captured", createdAt: 1000 });
    for (let i = 0; i < 3; i++) await expect(payments.charge({ orderId: "o2", token: "decline_card", amountCents: 1 })).rejects.toBeInstanceOf(PaymentDeclined);
    for (let i = 0; i < FLAKY_FAILURES; i++) {
      await expect(payments.charge({ orderId: "o3", token: "flaky_card", amountCents: 7 })).rejects.toBeInstanceOf(PaymentUnavailable);
    }
    expect(await payments.charge({ orderId: "o3", token: "flaky_card", amountCents: 7 })).toMatchObject({ orderId: "o3", amountCents: 7 });

    expect(await payments.countCaptured()).toBe(2);
    expect(await payments.capturedFor("o2")).toBeNull();
    expect((await payments.capturedFor("o1"))!.id).toBe(charge.id);
    expect(await payments.doubleCharged()).toEqual([]);
  });

  it("takes money twice when charged twice, counts it as a double charge, and a refund takes it back", async () => {
    const payments = new Payments(await database(), () => 0);
    await payments.migrate();
    const first = await payments.charge({ orderId: "o1", token: "tok", amountCents: 100 });
    await payments.charge({ orderId: "o1", token: "tok", amountCents: 100 });
    expect(await payments.doubleCharged()).toEqual([{ orderId: "o1", charges: 2 }]);
    expect(await payments.refund(first.id)).toBe(true);
    expect(await payments.refund(first.id)).toBe(false);
    expect(await payments.doubleCharged()).toEqual([]);
    expect(await payments.countCaptured()).toBe(1);
  });
});

describe("the inventory", () => {
  it("reserves all of an order's items in one go, and a second reserve of the same order takes nothing more", async () => {
    const inventory = new Inventory(await database());
    await inventory.migrate();
    const mug = CATALOGUE.find((i) => i.sku === "mug")!;
    expect(await inventory.prices(["mug", "nope"])).toEqual(new Map([["mug", mug.priceCents]]));

    expect(await inventory.reserve("o1", [{ sku: "mug", qty: 2 }, { sku: "poster", qty: 1 }])).toEqual({ reserved: 3 });
    expect(await inventory.reserve("o1", [{ sku: "mug", qty: 2 }, { sku: "poster", qty: 1 }])).toEqual({ reserved: 3 });
    expect(await inventory.stock("mug")).toBe(mug.stock - 2);
    expect(await inventory.stock("poster")).toBe(CATALOGUE.find((i) => i.sku === "poster")!.stock - 1);
  });

  it("refuses an order with any item short of stock as OutOfStock and takes none of its items", async () => {
    const inventory = new Inventory(await database());
    await inventory.migrate();
    await inventory.setStock("tshirt", 3);
    const order = [{ sku: "mug", qty: 1 }, { sku: "tshirt", qty: 4 }];
    await expect(inventory.reserve("o1", order)).rejects.toThrow(OutOfStock);
    await expect(inventory.reserve("o1", order)).rejects.toThrow(/out of stock: tshirt/);
    expect(await inventory.stock("tshirt")).toBe(3);
    expect(await inventory.stock("mug")).toBe(CATALOGUE.find((i) => i.sku === "mug")!.stock);
    await expect(inventory.reserve("o2", [{ sku: "vinyl-first-press", qty: 1 }])).rejects.toThrow(/vinyl-first-press/);
    // a reserve that fits still goes through
    expect(await inventory.reserve("o3", [{ sku: "tshirt", qty: 3 }])).toEqual({ reserved: 3 });
    expect(await inventory.stock("tshirt")).toBe(0);
    // after a restock, the refused order is checked again and goes through, once
    await inventory.setStock("tshirt", 10);
    expect(await inventory.reserve("o1", order)).toEqual({ reserved: 5 });
    expect(await inventory.reserve("o1", order)).toEqual({ reserved: 5 });
    expect(await inventory.stock("tshirt")).toBe(6);
  });

  it("keeps stock a restarted process already changed when it migrates again", async () => {
    const sql = await database();
    await new Inventory(sql).migrate();
    await new Inventory(sql).setStock("mug", 5);
    await new Inventory(sql).migrate();
    expect(await new Inventory(sql).stock("mug")).toBe(5);
  });
});

describe("the warehouse", () => {
  it("counts every notification, so an order notified twice shows as a duplicate", async () => {
    const warehouse = new Warehouse(await database());
    await warehouse.migrate();
    await warehouse.notify("o1", "INV-1", 1);
    await warehouse.notify("o2", "INV-2", 2);
    expect(await warehouse.duplicates()).toEqual([]);
    await warehouse.notify("o1", "INV-1", 3);
    expect(await warehouse.notificationsFor("o1")).toBe(2);
    expect(await warehouse.count()).toBe(3);
    expect(await warehouse.duplicates()).toEqual([{ orderId: "o1", notifications: 2 }]);
  });
});

describe("the mailer", () => {
  it("fails the share of sends its failure rate says and keeps the ones it sent", async () => {
    const draws = [0.05, 0.5, 0.2, 0.95];
    const mailer = new Mailer({ failureRate: 0.25, random: () => draws.shift()!, now: () => 42 });
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => mailer.send({ to: `u${n}@example.com`, subject: "hi" })));
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "rejected", "fulfilled"]);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(MailFailed);
    expect(mailer.sent).toEqual([
      { to: "u2@example.com", subject: "hi", sentAt: 42 },
      { to: "u4@example.com", subject: "hi", sentAt: 42 },
    ]);
  });

  it("refuses a failure rate outside 0..1", () => {
    expect(() => new Mailer({ failureRate: 1.5 })).toThrow(/failureRate must be a number from 0 to 1, got 1.5/);
    expect(() => new Mailer({ failureRate: Number.NaN })).toThrow(RangeError);
  });
});
