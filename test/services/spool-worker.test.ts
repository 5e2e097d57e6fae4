/**
 * The services of a started worker together: what it serves and says at start,
 * and what it says about jobs it hands back at shutdown.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Logger } from "../../src/core/logger.ts";
import type { SpoolOptions } from "../../src/spool.ts";
import { deferred, openSpool, waitFor } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Partial<SpoolOptions> = {}) {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const logger: Logger = {
    debug: (message, fields) => lines.push({ level: "debug", message, fields }),
    info: (message, fields) => lines.push({ level: "info", message, fields }),
    warn: (message, fields) => lines.push({ level: "warn", message, fields }),
    error: (message, fields) => lines.push({ level: "error", message, fields }),
  };
  const { spool, cleanup } = await openSpool({ workerId: "services-worker", logger, ...options });
  cleanups.push(cleanup);
  return { spool, lines };
}

describe("a started worker", () => {
  it("logs a job handed back at shutdown as returned to the queue, not as a failed attempt", async () => {
    const { spool, lines } = await setup();
    const started = deferred();
    spool.define("long", async () => {
      started.resolve();
      await new Promise(() => undefined); // never ends, ignores its signal
    });
    const { id } = await spool.enqueue("long", null);
    const runtime = await spool.start({ http: false, minPollMs: 5 });
    await started.promise;
    await runtime.stop({ graceMs: 0 });

    expect(await spool.getJob(id)).toMatchObject({ status: "pending", attempts: 0, history: [] });
    const about = lines.filter((l) => l.fields?.jobId === id);
    expect(about).toEqual([
      { level: "info", message: "job returned to the queue at shutdown", fields: { jobId: id, type: "long", attempt: 1 } },
    ]);
    expect(lines.filter((l) => l.message === "job attempt failed")).toEqual([]);
  });

  it("says in its start log which types it serves, and with none defined claims nothing while its promoter still runs", async () => {
    const { spool, lines } = await setup();
    const waiting = await spool.enqueue("resize", { n: 1 }, { maxAttempts: 1 });
    const delayed = await spool.enqueue("resize", { n: 2 }, { delayMs: 30, maxAttempts: 1 });
    await spool.start({ http: false, minPollMs: 5, maxPollMs: 10 });
    expect(lines.find((l) => l.message === "worker started")?.fields).toMatchObject({ workerId: "services-worker", types: [] });
    // the promoter moves the delayed job to pending; neither is claimed by this producer-only process
    await waitFor("the delayed job to be promoted", async () => (await spool.getJob(delayed.id))?.status === "pending");
    for (const id of [waiting.id, delayed.id]) {
      expect(await spool.getJob(id)).toMatchObject({ status: "pending", attempts: 0, history: [] });
    }
  });

  it("lists the types it serves in its start log", async () => {
    const { spool, lines } = await setup();
    spool.define("resize", () => undefined);
    spool.define("send_email", () => undefined);
    await spool.start({ http: false });
    expect(lines.find((l) => l.message === "worker started")?.fields).toMatchObject({ types: ["resize", "send_email"] });
  });
});
