import { afterEach, describe, expect, it } from "vitest";
import { createHandler } from "../../src/http/handler.ts";
import { openSpool } from "../support/system.ts";

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

describe("HTTP API", () => {
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
    spool.store.close();
    const response = await call("GET", "/health");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: "unavailable" });
  });
});
