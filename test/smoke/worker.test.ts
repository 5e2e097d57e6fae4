/**
 * The worker started with each runtime's real command, exercised over real
 * HTTP on loopback, stopped with SIGTERM.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT, type RunningProcess, freePort, nodeBinary, startProcess } from "../support/processes.ts";
import { tempDatabase, waitFor } from "../support/system.ts";

const BIN = join(ROOT, "node_modules", ".bin");
const COMMANDS: Record<string, [string, string[]]> = {
  "node dist/worker.js": [nodeBinary(), ["dist/worker.js"]],
  "bun run worker": [join(BIN, "bun"), ["run", "worker"]],
  "deno task worker": [join(BIN, "deno"), ["task", "worker"]],
};

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe.each(Object.keys(COMMANDS))("%s", (name) => {
  it("serves the API, runs the example jobs to completion and exits 0 on SIGTERM", async () => {
    const db = tempDatabase();
    const port = await freePort();
    const [command, args] = COMMANDS[name]!;
    const worker: RunningProcess = startProcess(command, args, {
      env: { SPOOL_DATABASE_URL: db.url, SPOOL_PORT: String(port), SPOOL_HOSTNAME: "127.0.0.1" },
    });
    cleanups.push(() => {
      worker.kill("SIGKILL");
      db.cleanup();
    });
    await worker.waitForOutput("spool worker ready", 60_000);
    const base = `http://127.0.0.1:${port}`;

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${base}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "report_orders", payload: { run: i } }),
      });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { id: string }).id);
    }
    const order = await fetch(`${base}/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ clientOrderId: "A-1", items: [{ sku: "mug", qty: 2 }], paymentToken: "tok_visa", email: "a@example.com" }),
    });
    expect(order.status).toBe(202);
    const { id: orderId, workflowId } = (await order.json()) as { id: string; workflowId: string };
    const bad = await fetch(`${base}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{oops" });
    expect(bad.status).toBe(400);

    for (const id of ids) {
      await waitFor(`job ${id} completed`, async () => {
        const job = (await (await fetch(`${base}/jobs/${id}`)).json()) as { status: string };
        return job.status === "completed";
      });
    }
    // the pipeline: order -> confirmation -> invoice + inventory -> warehouse, five jobs in all
    // (completed_with_errors when the simulated mailer failed the confirmation, 5% of the time)
    await waitFor("order workflow finished", async () => {
      const workflow = (await (await fetch(`${base}/workflows/${workflowId}`)).json()) as { status: string };
      return workflow.status === "completed" || workflow.status === "completed_with_errors";
    });
    const shown = (await (await fetch(`${base}/orders/${orderId}`)).json()) as { status: string; workflow: { steps: unknown[] } };
    expect(shown.status).toBe("ready_to_ship");
    expect(shown.workflow.steps).toHaveLength(5);
    // by type: a cron tick of the pipeline's own schedules may add jobs of other types
    const stats = (await (await fetch(`${base}/stats`)).json()) as { byType: Record<string, Record<string, number>> };
    expect(stats.byType.report_orders!.completed).toBe(5);
    for (const type of ["process_order", "send_order_confirmation", "generate_invoice", "sync_inventory", "notify_warehouse"]) {
      expect(stats.byType[type]!.completed).toBe(1);
    }
    expect((await fetch(`${base}/jobs/999999`)).status).toBe(404);

    worker.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    const lines = worker.output().split("\n").filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty("level");
    expect(worker.output()).toContain('"msg":"worker stopped"');
  });
});
