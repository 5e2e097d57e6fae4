/**
 * A worker on a server that stops answering (frozen with SIGSTOP: connections
 * stay open, nothing comes back) still stops within its grace period, even
 * though it cannot write the outcomes of the jobs it was running.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSpool } from "../../src/index.ts";
import { type LibsqlServer, libsqlServer } from "../support/sqld.ts";
import { deferred, waitFor } from "../support/system.ts";

let dir: string;
let server: LibsqlServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "spool-shutdown-"));
  server = await libsqlServer(dir);
  await server.start();
}, 60_000);

afterAll(async () => {
  server?.freeze(false);
  await server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("stopping while the server does not answer", () => {
  it("stops within its grace period when outcomes cannot be written", async () => {
    const spool = await createSpool({ url: server.url });
    const started = deferred();
    const release = deferred();
    let running = 0;
    spool.define("hold", async () => {
      if (++running === 3) started.resolve();
      await release.promise;
    });
    await spool.enqueueMany([1, 2, 3].map((i) => ({ type: "hold", payload: { i } })));
    const worker = await spool.start({ http: false, concurrency: 3, minPollMs: 10, maxPollMs: 50 });
    await started.promise;
    server.freeze(true);
    try {
      const graceMs = 1000;
      const stopAt = Date.now();
      const stopped = worker.stop({ graceMs });
      // the jobs finish during the grace period, but their outcomes cannot be written
      release.resolve();
      await stopped;
      const took = Date.now() - stopAt;
      // grace, plus the short allowance for handing back what did not finish
      expect(took).toBeLessThan(graceMs + 3000);
    } finally {
      server.freeze(false);
      await spool.close();
    }
    // what the worker could not write is not lost: the jobs are still running under their leases, for the reaper
    const check = await createSpool({ url: server.url });
    try {
      const counts = await waitFor("the server to answer again", () => check.countJobs());
      expect(counts.running + counts.completed).toBe(3);
    } finally {
      await check.close();
    }
  });
});
