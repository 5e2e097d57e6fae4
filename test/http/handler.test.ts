import { afterEach, describe, expect, it } from "vitest";
import { type HandlerOptions, type Route, createHandler, publicRoute } from "../../src/http/handler.ts";
import { openSpool } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const opened = await openSpool();
  cleanups.push(opened.cleanup);
  const app = createHandler(opened.spool, {
    routes: [(request) => (new URL(request.url).pathname === "/custom" ? new Response("mine", { status: 418 }) : undefined)],
  });
  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    app.fetch(new Request(`http://spool.test${path}`, { method, body, headers: { "content-type": "application/json", ...headers } }));
  return { spool: opened.spool, call };
}

describe("HTTP API without a token", () => {
  it("answers GET /health with 200 and JSON", async () => {
    const { call } = await setup();
    const response = await call("GET", "/health");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toMatchObject({ status: "ok", database: "ok" });
  });

  it("enqueues with POST /jobs (201) and reads the job back with GET /jobs/:id", async () => {
    const { call } = await setup();
    const created = await call("POST", "/jobs", JSON.stringify({ type: "send_email", payload: { to: "x" }, priority: 10, maxAttempts: 2 }));
    expect(created.status).toBe(201);
    const { id, deduplicated } = (await created.json()) as { id: string; deduplicated: boolean };
    expect(typeof id).toBe("string");
    expect(deduplicated).toBe(false);
    const read = await call("GET", `/jobs/${id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id, type: "send_email", payload: { to: "x" }, status: "pending", priority: 10, maxAttempts: 2 });
  });

  it("answers 404 for an unknown job and an unknown route", async () => {
    const { call } = await setup();
    expect((await call("GET", "/jobs/424242")).status).toBe(404);
    expect((await call("GET", "/jobs/abc")).status).toBe(404);
    const notFound = await call("GET", "/nothing-here");
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  it("says what is wrong with a malformed or invalid body, with 400, and writes nothing", async () => {
    const { call, spool } = await setup();
    const cases: Array<[string, RegExp]> = [
      ["{not json", /not valid JSON/],
      ["", /empty/],
      ["[1,2]", /must be a JSON object/],
      [JSON.stringify({ payload: {} }), /needs "type"/],
      [JSON.stringify({ type: 5 }), /"type" must be a string/],
      [JSON.stringify({ type: "t", payload: {}, priority: "high" }), /priority must be an integer/],
      [JSON.stringify({ type: "t", payload: {}, color: "red" }), /unknown option "color"/],
      [JSON.stringify({ type: "t", runAt: "next tuesday" }), /runAt must be a Date, an ISO-8601 string/],
      [JSON.stringify({ type: "bad type!" }), /job type must be/],
    ];
    for (const [body, message] of cases) {
      const response = await call("POST", "/jobs", body);
      expect(response.status, body).toBe(400);
      const json = (await response.json()) as { error: { code: string; message: string } };
      expect(json.error.message, body).toMatch(message);
    }
    expect(Object.values(await spool.countJobs()).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("answers 405 with Allow for a known path and a wrong method", async () => {
    const { call } = await setup();
    const response = await call("DELETE", "/jobs");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toContain("POST");
  });

  it("passes requests no built-in route matches to the jobs module's routes", async () => {
    const { call } = await setup();
    const response = await call("GET", "/custom");
    expect(response.status).toBe(418);
    expect(await response.text()).toBe("mine");
  });

  it("answers 503 from /health when the database is gone", async () => {
    const { call, spool } = await setup();
    storeOf(spool).close();
    const response = await call("GET", "/health");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: "unavailable" });
  });
});

const ADMIN = "admin-token-0123456789";
const READ = "read-token-0123456789";

async function guarded(options: HandlerOptions = {}) {
  const opened = await openSpool();
  cleanups.push(opened.cleanup);
  const logged: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const logger = { debug() {}, info() {}, warn: (msg: string, fields?: Record<string, unknown>) => logged.push({ msg, fields }), error() {} };
  const handler = createHandler(opened.spool, {
    apiToken: ADMIN,
    readToken: READ,
    hostname: "127.0.0.1",
    port: 8787,
    logger,
    ...options,
  });
  const call = async (method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string>; token?: string; host?: string } = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
    const request = new Request(`http://${init.host ?? "127.0.0.1:8787"}${path}`, { method, body: init.body, headers, duplex: "half" } as RequestInit);
    return handler.fetch(request);
  };
  return { spool: opened.spool, call, logged };
}

const jsonBody = (value: unknown) => ({ body: JSON.stringify(value), headers: { "content-type": "application/json" } });
const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

describe("the token guard", () => {
  it("answers 401 with the error body and WWW-Authenticate for a missing or wrong token, and logs it at warn without the token", async () => {
    const { call, logged, spool } = await guarded();
    for (const token of [undefined, "wrong-token", `${ADMIN}x`, ADMIN.slice(0, -1)]) {
      const response = await call("GET", "/jobs?status=pending", { token });
      expect(response.status, String(token)).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await response.json()).toEqual({ error: { code: "UNAUTHORIZED", message: expect.any(String) } });
    }
    const basic = await call("POST", "/jobs", { ...jsonBody({ type: "t" }), headers: { "content-type": "application/json", authorization: `Basic ${btoa(`x:${ADMIN}`)}` } });
    expect(basic.status).toBe(401);
    expect(Object.values(await spool.countJobs()).reduce((a, b) => a + b, 0)).toBe(0);
    expect(logged.filter((l) => l.fields?.status === 401)).toHaveLength(5);
    for (const line of logged) {
      expect(line.msg).toBe("http request refused");
      expect(JSON.stringify(line)).not.toContain("token-0123");
    }
  });

  it("lets the API token use every route, and the read-only token every GET but no mutation (403)", async () => {
    const { call, spool } = await guarded();
    const created = await call("POST", "/jobs", { ...jsonBody({ type: "t" }), token: ADMIN });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await call("GET", `/jobs/${id}`, { token: READ })).status).toBe(200);
    expect((await call("GET", "/stats", { token: READ })).status).toBe(200);
    expect((await call("GET", "/schedules", { token: READ })).status).toBe(200);
    const forged = await call("POST", `/jobs/${id}/cancel`, { token: READ });
    expect(forged.status).toBe(403);
    expect(await errorCode(forged)).toBe("READ_ONLY_TOKEN");
    expect((await call("POST", "/jobs", { ...jsonBody({ type: "t" }), token: READ })).status).toBe(403);
    expect((await spool.getJob(id))!.status).toBe("pending");
    expect((await call("POST", `/jobs/${id}/cancel`, { token: ADMIN })).status).toBe(200);
  });

  it("keeps GET /health open to callers without a token, and from any Host", async () => {
    const { call } = await guarded();
    expect((await call("GET", "/health")).status).toBe(200);
    expect((await call("GET", "/health", { host: "10.1.2.3:8787" })).status).toBe(200);
    expect((await call("GET", "/health", { host: "evil.example" })).status).toBe(200);
  });

  it("tells the caller its access on GET /access: admin, read, or open without a configured token", async () => {
    const { call } = await guarded();
    expect(await (await call("GET", "/access", { token: ADMIN })).json()).toEqual({ access: "admin" });
    expect(await (await call("GET", "/access", { token: READ })).json()).toEqual({ access: "read" });
    expect((await call("GET", "/access")).status).toBe(401);
    const open = await guarded({ apiToken: undefined, readToken: undefined });
    expect(await (await open.call("GET", "/access")).json()).toEqual({ access: "open" });
    expect(await (await open.call("GET", "/access", { token: "anything" })).json()).toEqual({ access: "open" });
  });

  it("guards the jobs module's routes too, unless a route opts out with publicRoute", async () => {
    const seen: string[] = [];
    const { call } = await guarded({
      routes: [
        publicRoute((request) => (new URL(request.url).pathname === "/webhook" ? (seen.push("webhook"), Response.json({ ok: true })) : undefined)),
        (request) => (new URL(request.url).pathname === "/private" ? (seen.push("private"), Response.json({ ok: true })) : undefined),
      ],
    });
    expect((await call("POST", "/webhook", jsonBody({ event: "paid" }))).status).toBe(200);
    expect((await call("GET", "/private")).status).toBe(401);
    expect((await call("POST", "/private", jsonBody({}))).status).toBe(401);
    expect((await call("POST", "/private", { ...jsonBody({}), token: READ })).status).toBe(403);
    expect((await call("GET", "/private", { token: READ })).status).toBe(200);
    expect((await call("POST", "/private", { ...jsonBody({}), token: ADMIN })).status).toBe(200);
    // an unknown path does not say whether it exists to a caller without a token
    expect((await call("GET", "/nothing")).status).toBe(401);
    expect((await call("GET", "/nothing", { token: ADMIN })).status).toBe(404);
    expect(seen).toEqual(["webhook", "private", "private"]);
  });
});

describe("the Host, cross-site and body guards", () => {
  it("answers only loopback names with the bound port when bound to loopback (403 otherwise)", async () => {
    const { call } = await guarded();
    for (const host of ["127.0.0.1:8787", "localhost:8787", "[::1]:8787", "LOCALHOST:8787"]) {
      expect((await call("GET", "/stats", { host, token: ADMIN })).status, host).toBe(200);
    }
    for (const host of ["evil.example:8787", "evil.example", "127.0.0.1:9999", "localhost", "127.0.0.1.evil.example:8787"]) {
      const response = await call("GET", "/stats", { host, token: ADMIN });
      expect(response.status, host).toBe(403);
      expect(await errorCode(response)).toBe("FORBIDDEN_HOST");
    }
  });

  it("answers any Host when bound to every interface, unless allowedHosts names them", async () => {
    const any = await guarded({ hostname: "0.0.0.0" });
    expect((await any.call("GET", "/stats", { host: "whatever.example:1234", token: ADMIN })).status).toBe(200);
    const named = await guarded({ hostname: "0.0.0.0", allowedHosts: ["spool.example.com", "10.0.0.5:8787"] });
    expect((await named.call("GET", "/stats", { host: "spool.example.com", token: ADMIN })).status).toBe(200);
    expect((await named.call("GET", "/stats", { host: "spool.example.com:8443", token: ADMIN })).status).toBe(200);
    expect((await named.call("GET", "/stats", { host: "10.0.0.5:8787", token: ADMIN })).status).toBe(200);
    expect((await named.call("GET", "/stats", { host: "10.0.0.5:9000", token: ADMIN })).status).toBe(403);
    expect((await named.call("GET", "/stats", { host: "whatever.example", token: ADMIN })).status).toBe(403);
  });

  it("refuses a mutation from a page on another site (Origin or Sec-Fetch-Site) with 403, and lets curl-like and same-origin requests through", async () => {
    const { call, spool } = await guarded();
    const refused: Array<Record<string, string>> = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: "http://localhost:8787", "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of refused) {
      const response = await call("POST", "/jobs", { body: JSON.stringify({ type: "t" }), headers: { "content-type": "application/json", ...headers }, token: ADMIN });
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(await errorCode(response)).toBe("FORBIDDEN_ORIGIN");
    }
    expect(Object.values(await spool.countJobs()).reduce((a, b) => a + b, 0)).toBe(0);
    const allowed: Array<Record<string, string>> = [{}, { origin: "http://127.0.0.1:8787" }, { "sec-fetch-site": "same-origin" }, { "sec-fetch-site": "none" }];
    for (const headers of allowed) {
      const response = await call("POST", "/jobs", { body: JSON.stringify({ type: "t" }), headers: { "content-type": "application/json", ...headers }, token: ADMIN });
      expect(response.status, JSON.stringify(headers)).toBe(201);
    }
    // reads are not mutations: a cross-site GET is answered (the browser keeps it from the page without CORS)
    expect((await call("GET", "/stats", { headers: { "sec-fetch-site": "cross-site" }, token: ADMIN })).status).toBe(200);
  });

  it("answers a body-less POST (curl -X POST) and refuses a body that is not JSON with 415", async () => {
    const { call, spool } = await guarded();
    await spool.pauseQueue("mail");
    expect((await call("POST", "/queues/mail/resume", { token: ADMIN })).status).toBe(200);
    for (const contentType of [undefined, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp"]) {
      const headers: Record<string, string> = contentType ? { "content-type": contentType } : {};
      const response = await call("POST", "/jobs", { body: new TextEncoder().encode(JSON.stringify({ type: "t" })), headers, token: ADMIN });
      expect(response.status, String(contentType)).toBe(415);
      expect(await errorCode(response)).toBe("UNSUPPORTED_MEDIA_TYPE");
    }
    expect((await call("POST", "/jobs", { body: '{"type":"t"}', headers: { "content-type": "Application/JSON; charset=utf-8" }, token: ADMIN })).status).toBe(201);
  });

  it("gives no CORS allowance unless the origin is configured, and answers a configured origin's preflight", async () => {
    const plain = await guarded();
    const noCors = await plain.call("GET", "/stats", { headers: { origin: "https://ops.example" }, token: ADMIN });
    expect(noCors.headers.get("access-control-allow-origin")).toBeNull();
    const preflightRefused = await plain.call("OPTIONS", "/jobs", { headers: { origin: "https://ops.example", "access-control-request-method": "POST" } });
    expect(preflightRefused.headers.get("access-control-allow-origin")).toBeNull();

    const { call } = await guarded({ corsOrigins: ["https://ops.example"] });
    const preflight = await call("OPTIONS", "/jobs", { headers: { origin: "https://ops.example", "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://ops.example");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    const created = await call("POST", "/jobs", { ...jsonBody({ type: "t" }), headers: { "content-type": "application/json", origin: "https://ops.example" }, token: ADMIN });
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe("https://ops.example");
    const other = await call("POST", "/jobs", { ...jsonBody({ type: "t" }), headers: { "content-type": "application/json", origin: "https://evil.example" }, token: ADMIN });
    expect(other.status).toBe(403);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers the first broken rule: 403 host, 403 origin, 401 token, 413, 415, then 400", async () => {
    const { call } = await guarded({ maxBodyBytes: 1000 });
    const big = "x".repeat(2000);
    const all = { host: "evil.example:8787", origin: "https://evil.example", token: "wrong", length: true, type: "text/plain", body: "{oops" };
    const send = (broken: Partial<typeof all>) =>
      call("POST", "/jobs", {
        host: broken.host,
        token: broken.token ?? ADMIN,
        body: broken.length ? big : (broken.body ?? JSON.stringify({ type: "t" })),
        headers: {
          "content-type": broken.type ?? "application/json",
          ...(broken.length ? { "content-length": String(big.length) } : {}),
          ...(broken.origin ? { origin: broken.origin } : {}),
        },
      });
    const expectAnswer = async (broken: Partial<typeof all>, status: number, code: string) => {
      const response = await send(broken);
      expect(response.status, JSON.stringify(broken)).toBe(status);
      expect(await errorCode(response)).toBe(code);
    };
    await expectAnswer(all, 403, "FORBIDDEN_HOST");
    const { host: _h, ...noHost } = all;
    await expectAnswer(noHost, 403, "FORBIDDEN_ORIGIN");
    const { origin: _o, ...noOrigin } = noHost;
    await expectAnswer(noOrigin, 401, "UNAUTHORIZED");
    const { token: _t, ...noToken } = noOrigin;
    await expectAnswer(noToken, 413, "BODY_TOO_LARGE");
    const { length: _l, ...noLength } = noToken;
    await expectAnswer(noLength, 415, "UNSUPPORTED_MEDIA_TYPE");
    const { type: _c, ...noType } = noLength;
    await expectAnswer(noType, 400, "INVALID_JSON");
    expect((await send({})).status).toBe(201);
  });

  it("stops reading a chunked body at the limit and answers 413, pulling little more than the limit", async () => {
    const { call, spool } = await guarded({ maxBodyBytes: 64 * 1024 });
    const chunk = new Uint8Array(16 * 1024).fill(32);
    let pulled = 0;
    // an endless body with no declared length, as a chunked upload arrives
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await call("POST", "/jobs", { body: endless, headers: { "content-type": "application/json" }, token: ADMIN });
    expect(response.status).toBe(413);
    expect(await errorCode(response)).toBe("BODY_TOO_LARGE");
    // the limit, the chunk that crossed it, and what the stream queued ahead
    expect(pulled).toBeLessThanOrEqual(64 * 1024 + 4 * chunk.byteLength);
    expect(Object.values(await spool.countJobs()).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("bounds the body a jobs module's route reads: it cannot read past the limit", async () => {
    let read = -1;
    const { call } = await guarded({
      maxBodyBytes: 64 * 1024,
      routes: [
        async (request) => {
          read = (await request.arrayBuffer()).byteLength;
          return new Response("read it all");
        },
      ],
    });
    const chunk = new Uint8Array(16 * 1024);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await call("POST", "/upload", { body: endless, headers: { "content-type": "application/json" }, token: ADMIN });
    expect(response.status).toBe(413);
    expect(read).toBe(-1);
    expect(pulled).toBeLessThanOrEqual(64 * 1024 + 4 * chunk.byteLength);
  });
});

describe("createHandler options", () => {
  it("refuses bad options with INVALID_OPTIONS naming the option", async () => {
    const opened = await openSpool();
    cleanups.push(opened.cleanup);
    const cases: Array<[HandlerOptions, RegExp]> = [
      [{ apiToken: "" }, /apiToken is unusable: it is empty/],
      [{ apiToken: "has space" }, /apiToken is unusable/],
      [{ readToken: READ }, /readToken needs apiToken/],
      [{ apiToken: ADMIN, readToken: ADMIN }, /readToken must differ/],
      [{ allowedHosts: ["http://x/"] }, /allowedHosts: "http:\/\/x\/"/],
      [{ corsOrigins: ["*"] }, /corsOrigins: "\*"/],
      [{ maxBodyBytes: 0 }, /maxBodyBytes must be a positive integer/],
      [{ port: 70000 }, /port must be an integer/],
      [{ routes: ["/x" as unknown as Route] }, /routes must be an array of functions/],
    ];
    for (const [options, message] of cases) {
      expect(() => createHandler(opened.spool, options), JSON.stringify(options)).toThrow(message);
    }
  });
});
