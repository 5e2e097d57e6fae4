/**
 * `npm run demo` on the runtime this file runs on: 200 orders through a real
 * worker process, with the summary read from the JSON last line.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, currentRuntime, nodeBinary, startProcess } from "../support/processes.ts";

const BIN = join(ROOT, "node_modules", ".bin");
// the command a user types on each runtime (Node's demo runs the worker from dist/)
const COMMANDS = {
  node: [nodeBinary(), ["scripts/demo.mjs", "--runtime", "node"]],
  bun: [join(BIN, "bun"), ["run", "demo"]],
  deno: [join(BIN, "deno"), ["task", "demo"]],
} as const;

describe(`the demo on ${currentRuntime()}`, () => {
  it("runs 200 orders to their final statuses and passes every check", async () => {
    const [command, args] = COMMANDS[currentRuntime()];
    const demo = startProcess(command, [...args, "--orders", "200", "--json"]);
    const code = await demo.exited;
    const output = demo.output();
    expect(code, output).toBe(0);
    const lines = output.trim().split("\n");
    const summary = JSON.parse(lines[lines.length - 1]!);

    expect(summary.runtime).toBe(currentRuntime());
    expect(summary.ok).toBe(true);
    expect(summary.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ["every order finished in time", true],
      ["every good order reached ready_to_ship and the warehouse exactly once", true],
      ["every declined order stopped at payment_declined with nothing downstream", true],
      ["no order was charged twice", true],
      ["a double submit returned the same order", true],
      ["express orders were notified sooner on average", true],
    ]);
    expect(summary.checks.filter((c: { skipped?: boolean }) => c.skipped)).toEqual([]);
    // the mix: 10% declined, 4% out of stock, the rest shipped; 5% submitted twice
    expect(summary.orders).toBe(200);
    expect(summary.doubleSubmitted).toBe(10);
    expect(summary.ordersByStatus).toMatchObject({ ready_to_ship: 172, payment_declined: 20, failed: 8, received: 0, cancelled: 0 });
    expect(summary.charges).toBe(180);
    expect(summary.warehouseNotifications).toBe(172);
    // 20 declined payments and 8 inventory syncs out of stock are the dead letters
    expect(summary.deadLetters).toBe(28);
    expect(summary.jobsByStatus).toMatchObject({ dead: 28, blocked: 0, pending: 0, scheduled: 0, running: 0 });
    // each of the 20 flaky cards failed twice
    expect(summary.retries).toBeGreaterThanOrEqual(40);
    expect(summary.orderToWarehouseMs.p50).toBeGreaterThan(0);
    expect(summary.orderToWarehouseMs.p99).toBeGreaterThanOrEqual(summary.orderToWarehouseMs.p50);
    expect(summary.orderToWarehouseMs.expressMean).toBeLessThan(summary.orderToWarehouseMs.othersMean);
  }, 120_000);
});
