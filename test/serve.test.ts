/**
 * serve(): the HTTP API of a library user's Spool over real loopback HTTP,
 * on the runtime the suite runs on.
 */
import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { publicRoute } from "../src/http/handler.ts";
import { type ServeOptions, type SpoolServer, serve } from "../src/serve.ts";
import { openSpool } from "./support/system.ts";

const ADMIN = "admin-token-0123456789";
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(options: ServeOptions = {}) {
  const opened = await openSpool();
  cleanups.push(opened.cleanup);
  const server = await serve(opened.spool, { port: 0, ...options });
  cleanups.push(() => server.close());
  return { spool: opened.spool, server };
}

/** A raw HTTP request, so the Host header can be anything. */
function rawGet(server: SpoolServer, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: server.port, path, method: "GET", headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("serve", () => {
  it("serves the API on loopback with the token guard, the Host check on the port it bound, and the user's routes", async () => {
    const { server } = await setup({
      apiToken: ADMIN,
      routes: [publicRoute((request) => (new URL(request.url).pathname === "/ping" ? new Response("pong") : undefined))],
    });
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(await (await fetch(`${base}/ping`)).text()).toBe("pong");
    expect((await fetch(`${base}/stats`)).status).toBe(401);
    const created = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "t" }),
    });
    expect(created.status).toBe(201);
    const auth = { authorization: `Bearer ${ADMIN}` };
    expect(await rawGet(server, "/stats", { ...auth, host: `localhost:${server.port}` })).toBe(200);
    expect(await rawGet(server, "/stats", { ...auth, host: `evil.example:${server.port}` })).toBe(403);
    expect(await rawGet(server, "/health", { host: `evil.example:${server.port}` })).toBe(200);
  });

  it("refuses to serve a non-loopback address without apiToken unless told allowUnauthenticated", async () => {
    const opened = await openSpool();
    cleanups.push(opened.cleanup);
    await expect(serve(opened.spool, { port: 0, hostname: "0.0.0.0" })).rejects.toThrow(/refusing to serve on "0.0.0.0" without apiToken/);
    const open = await serve(opened.spool, { port: 0, hostname: "0.0.0.0", allowUnauthenticated: true });
    cleanups.push(() => open.close());
    expect((await fetch(`http://127.0.0.1:${open.port}/stats`)).status).toBe(200);
    const guarded = await serve(opened.spool, { port: 0, hostname: "0.0.0.0", apiToken: ADMIN });
    cleanups.push(() => guarded.close());
    expect((await fetch(`http://127.0.0.1:${guarded.port}/stats`)).status).toBe(401);
  });

  it("closes idempotently, after which the port no longer answers", async () => {
    const { server } = await setup();
    await Promise.all([server.close(), server.close()]);
    await expect(fetch(`http://127.0.0.1:${server.port}/health`)).rejects.toThrow();
  });
});

describe("a library Spool's start()", () => {
  it("opens no port, accepts http: false, and refuses an http option with a pointer to serve()", async () => {
    const { spool } = await setup();
    const runtime = await spool.start({ http: false });
    await runtime.stop();
    const again = await spool.start();
    expect(Object.keys(again)).toEqual(["workerId", "stop"]);
    await again.stop();
    await expect(spool.start({ http: { port: 0 } } as never)).rejects.toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringMatching(/serve\(spool/) });
  });
});
