/**
 * The worker process's HTTP guards, as a user meets them: started with its
 * real command on this runtime, reached over real loopback HTTP.
 */
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningProcess, currentRuntime, freePort, runtimeCommand, startProcess, startWorker } from "../support/processes.ts";
import { tempDatabase } from "../support/system.ts";

const runtime = currentRuntime();
const ADMIN = "admin-token-0123456789";
const READ = "read-token-0123456789";
const MiB = 1024 * 1024;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function worker(env: Record<string, string>): Promise<{ proc: RunningProcess; base: string; port: number }> {
  const db = tempDatabase("spool-http-access-");
  const port = await freePort();
  const proc = await startWorker(runtime, { SPOOL_DATABASE_URL: db.url, SPOOL_PORT: String(port), ...env });
  cleanups.push(async () => {
    proc.kill("SIGKILL");
    await proc.exited;
    db.cleanup();
  });
  return { proc, base: `http://127.0.0.1:${port}`, port };
}

/** The process's peak resident memory so far, in bytes (Linux). */
function peakMemory(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmHWM:"))!;
  return Number(/(\d+)/.exec(line)![1]) * 1024;
}

/** Streams up to `totalBytes` as a chunked POST until the server answers; resolves with the status and the bytes written. */
function chunkedUpload(port: number, totalBytes: number): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 32);
    let sent = 0;
    let answered = false;
    const req = httpRequest(
      { host: "127.0.0.1", port, path: "/jobs", method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
      (res) => {
        answered = true;
        res.resume();
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, sent });
        });
      },
    );
    req.on("error", (error) => (answered ? undefined : reject(error)));
    const write = () => {
      while (!answered && sent < totalBytes) {
        sent += chunk.byteLength;
        if (!req.write(chunk)) return void req.once("drain", write);
      }
      if (!answered) req.end();
    };
    write();
  });
}

describe(`the worker's HTTP guards (${runtime})`, () => {
  it("stops at startup on a non-loopback SPOOL_HOSTNAME without SPOOL_API_TOKEN, naming both, unless SPOOL_ALLOW_UNAUTHENTICATED=true", async () => {
    const db = tempDatabase("spool-http-refuse-");
    cleanups.push(() => db.cleanup());
    const [command, args] = runtimeCommand(runtime, { ts: "src/worker.ts", js: "dist/worker.js" });
    const refused = startProcess(command, args, { env: { SPOOL_DATABASE_URL: db.url, SPOOL_HOSTNAME: "0.0.0.0", SPOOL_PORT: String(await freePort()) } });
    cleanups.push(() => refused.kill("SIGKILL"));
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain("SPOOL_HOSTNAME");
    expect(refused.output()).toContain("SPOOL_API_TOKEN");
    expect(refused.output()).toContain("INVALID_CONFIG");
    expect(refused.output()).not.toContain("spool worker ready");

    const allowed = await worker({ SPOOL_HOSTNAME: "0.0.0.0", SPOOL_ALLOW_UNAUTHENTICATED: "true" });
    expect((await fetch(`${allowed.base}/stats`)).status).toBe(200);
  });

  it("with SPOOL_API_TOKEN and SPOOL_API_READ_TOKEN, requires a token everywhere but /health and refuses the read token's mutations", async () => {
    const { base, proc } = await worker({ SPOOL_API_TOKEN: ADMIN, SPOOL_API_READ_TOKEN: READ });
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/stats`)).status).toBe(401);
    expect((await fetch(`${base}/stats`, { headers: { authorization: `Bearer ${READ}` } })).status).toBe(200);
    const order = { method: "POST", body: JSON.stringify({ clientOrderId: "A-1", items: [{ sku: "mug", qty: 1 }], paymentToken: "tok_visa", email: "a@example.com" }) };
    // the bundled order pipeline's own POST /orders sits behind the same guard
    expect((await fetch(`${base}/orders`, { ...order, headers: { "content-type": "application/json" } })).status).toBe(401);
    expect((await fetch(`${base}/orders`, { ...order, headers: { "content-type": "application/json", authorization: `Bearer ${READ}` } })).status).toBe(403);
    expect((await fetch(`${base}/orders`, { ...order, headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` } })).status).toBe(202);
    // curl -X POST with no body keeps working
    expect((await fetch(`${base}/queues/mail/pause`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    expect(proc.output()).toContain('"msg":"http request refused"');
    expect(proc.output()).not.toContain(ADMIN);
    expect(proc.output()).not.toContain(READ);
  });

  it("answers a 200 MiB chunked body with 413 after reading about the limit, and its memory does not grow with the body", async () => {
    const { proc, port } = await worker({});
    const before = peakMemory(proc.pid);
    const { status, sent } = await chunkedUpload(port, 200 * MiB);
    const growth = peakMemory(proc.pid) - before;
    expect(status).toBe(413);
    // a body read whole would take at least its own size, 200 MiB
    expect(growth).toBeLessThan(48 * MiB);
    expect(sent).toBeLessThan(200 * MiB);
    console.log(`chunked upload (${runtime}): ${(sent / MiB).toFixed(1)} MiB sent before the 413, peak memory grew ${(growth / MiB).toFixed(1)} MiB`);
  });
});
