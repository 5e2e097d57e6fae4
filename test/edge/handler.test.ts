/**
 * The edge module: createHandler's `fetch` (the API, POST /drain, signed
 * triggers) and `scheduled` (a platform's cron trigger), in process, plus one
 * signed trigger over real HTTP on loopback.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type HandlerOptions, createHandler } from "../../src/http/handler.ts";
import { signTrigger } from "../../src/http/trigger.ts";
import { serve } from "../../src/serve.ts";
import type { Spool } from "../../src/spool.ts";
import { openSpool } from "../support/system.ts";

const API_TOKEN = "api-token-0123456789";
const READ_TOKEN = "read-token-0123456789";
const CURRENT = "current-trigger-secret-0123456789";
const NEXT = "next-trigger-secret-0123456789";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: HandlerOptions = {}) {
  const opened = await openSpool();
  cleanups.push(opened.cleanup);
  const spool: Spool = opened.spool;
  const ran: number[] = [];
  spool.define("work", (payload: { n: number }) => void ran.push(payload.n), { timeoutMs: 1_000 });
  const handler = createHandler(spool, options);
  const call = (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
    handler.fetch(
      new Request(`http://spool.test${path}`, {
        method,
        body: init.body,
        headers: { ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
      }),
    );
  const enqueue = (count: number) => spool.enqueueMany(Array.from({ length: count }, (_, n) => ({ type: "work", payload: { n } })));
  return { spool, handler, call, ran, enqueue };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("createHandler for the edge", () => {
  it("serves the API and POST /drain behind the token", async () => {
    const { call, enqueue, ran } = await setup({ apiToken: API_TOKEN, readToken: READ_TOKEN });
    await enqueue(5);

    expect((await call("GET", "/stats")).status).toBe(401);
    expect((await call("GET", "/stats", { headers: bearer(READ_TOKEN) })).status).toBe(200);
    const anonymous = await call("POST", "/drain");
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } });
    const readOnly = await call("POST", "/drain", { headers: bearer(READ_TOKEN) });
    expect(readOnly.status).toBe(403);
    expect(ran).toEqual([]);

    const drained = await call("POST", "/drain", { headers: bearer(API_TOKEN) });
    expect(drained.status).toBe(200);
    expect(await drained.json()).toEqual({ ran: 5, completed: 5, failed: 0, retried: 0, remaining: 0, nextDueAt: null });
    expect(ran.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("takes budgetMs and maxJobs from the body of POST /drain and answers 400 for bad ones", async () => {
    const { call, enqueue, spool } = await setup();
    await enqueue(5);

    const some = await call("POST", "/drain", { body: JSON.stringify({ budgetMs: 10_000, maxJobs: 2 }) });
    expect(some.status).toBe(200);
    expect(await some.json()).toMatchObject({ ran: 2, completed: 2, remaining: 3 });

    const badBudget = await call("POST", "/drain", { body: JSON.stringify({ budgetMs: "soon" }) });
    expect(badBudget.status).toBe(400);
    expect(await badBudget.json()).toMatchObject({ error: { code: "INVALID_OPTIONS", message: expect.stringMatching(/budgetMs/) } });
    const unknown = await call("POST", "/drain", { body: JSON.stringify({ queues: ["x"] }) });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { code: "INVALID_BODY", message: expect.stringMatching(/"queues"/) } });
    const notJson = await call("POST", "/drain", { body: "{" });
    expect(notJson.status).toBe(400);
    expect((await spool.countJobs()).pending).toBe(3);
  });

  it("drains on scheduled() with no token, handing its promise to the platform's waitUntil", async () => {
    const { handler, enqueue, ran, call } = await setup({ apiToken: API_TOKEN, drain: { budgetMs: 10_000, maxJobs: 3 } });
    await enqueue(4);
    const waited: Array<Promise<unknown>> = [];
    const ctx = { waitUntil: (promise: Promise<unknown>) => void waited.push(promise) };

    // Cloudflare calls scheduled(controller, env, ctx)
    const summary = await handler.scheduled({ cron: "* * * * *", scheduledTime: Date.now() }, { SOME_BINDING: "x" }, ctx);

    expect(summary).toMatchObject({ ran: 3, completed: 3, remaining: 1 });
    expect(waited).toHaveLength(1);
    expect(await waited[0]).toEqual(summary);
    // Deno.cron and a plain timer call it with nothing
    expect(await handler.scheduled()).toMatchObject({ ran: 1, remaining: 0 });
    expect(ran.sort()).toEqual([0, 1, 2, 3]);
    // fetch still holds to the token
    expect((await call("POST", "/drain")).status).toBe(401);
  });

  it("accepts a signed trigger instead of the token, with the current or the next secret", async () => {
    const { call, enqueue, ran } = await setup({ apiToken: API_TOKEN, triggerSecret: CURRENT, triggerSecrets: [NEXT] });
    await enqueue(3);
    const body = JSON.stringify({ maxJobs: 2 });

    const signed = await call("POST", "/drain", { body, headers: { "spool-signature": await signTrigger(CURRENT, body) } });
    expect(signed.status).toBe(200);
    expect(await signed.json()).toMatchObject({ ran: 2, remaining: 1 });
    const rotated = await call("POST", "/drain", { headers: { "spool-signature": await signTrigger(NEXT, "") } });
    expect(rotated.status).toBe(200);
    expect(await rotated.json()).toMatchObject({ ran: 1, remaining: 0 });
    expect(ran.sort()).toEqual([0, 1, 2]);
  });

  it("refuses a bad, tampered, stale, replayed or malformed signature with 401, and a signature anywhere but POST /drain", async () => {
    const { call, enqueue, ran } = await setup({ apiToken: API_TOKEN, triggerSecret: CURRENT });
    await enqueue(1);
    const body = JSON.stringify({ budgetMs: 5_000 });
    const refused = async (headers: Record<string, string>, code: string, path = "/drain", sent: string = body) => {
      const response = await call("POST", path, { body: sent, headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code } });
    };

    await refused({ "spool-signature": await signTrigger("some-other-secret-0123456789", body) }, "INVALID_SIGNATURE");
    await refused({ "spool-signature": await signTrigger(CURRENT, body) }, "INVALID_SIGNATURE", "/drain", JSON.stringify({ budgetMs: 6_000 }));
    await refused({ "spool-signature": await signTrigger(CURRENT, body, Date.now() - 6 * 60_000) }, "STALE_SIGNATURE");
    await refused({ "spool-signature": await signTrigger(CURRENT, body, Date.now() + 6 * 60_000) }, "STALE_SIGNATURE");
    await refused({ "spool-signature": "v1=abc" }, "INVALID_SIGNATURE");
    await refused({ "spool-signature": `t=${Date.now()},v1=${"0".repeat(64)}` }, "INVALID_SIGNATURE");
    // a signature is judged as such even when a valid token comes with it
    await refused({ "spool-signature": `t=1,v1=${"0".repeat(64)}`, ...bearer(API_TOKEN) }, "STALE_SIGNATURE");
    // other routes take only the token
    const job = JSON.stringify({ type: "work", payload: { n: 9 } });
    await refused({ "spool-signature": await signTrigger(CURRENT, job) }, "UNAUTHORIZED", "/jobs", job);
    expect(ran).toEqual([]);

    const header = await signTrigger(CURRENT, body);
    expect((await call("POST", "/drain", { body, headers: { "spool-signature": header } })).status).toBe(200);
    await refused({ "spool-signature": header }, "REPLAYED_SIGNATURE");
    expect(ran).toEqual([0]);
  });

  it("refuses unusable trigger secrets and drain defaults when it is created", async () => {
    const { spool } = await setup();
    expect(() => createHandler(spool, { triggerSecret: "short" })).toThrow(/triggerSecret is too short/);
    expect(() => createHandler(spool, { triggerSecrets: [CURRENT, 5 as never] })).toThrow(/triggerSecrets\[1\] must be a string/);
    expect(() => createHandler(spool, { drain: { budgetMs: 0 } })).toThrow(/budgetMs must be an integer/);
    expect(() => createHandler(spool, { drain: { signal: new AbortController().signal } as never })).toThrow(/drain takes budgetMs/);
  });

  it("takes a signed trigger over real HTTP", async () => {
    const { spool, enqueue, ran } = await setup();
    await enqueue(2);
    const server = await serve(spool, { port: 0, apiToken: API_TOKEN, triggerSecret: CURRENT });
    cleanups.push(() => server.close());
    const body = "{}";
    const response = await fetch(new URL("/drain", server.url), {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "spool-signature": await signTrigger(CURRENT, body) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ran: 2, completed: 2 });
    expect(ran.sort()).toEqual([0, 1]);
  });
});
