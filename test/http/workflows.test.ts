/**
 * The workflow routes, in process through app.fetch: success, 400, 404 and
 * 409 for each, with the jobs routes' error shape.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHandler } from "../../src/http/handler.ts";
import { PermanentError } from "../../src/index.ts";
import { openSpool, waitFor } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const opened = await openSpool();
  cleanups.push(opened.cleanup);
  const { spool } = opened;
  spool.define("root", (p: { fail?: boolean }) => {
    if (p?.fail) throw new PermanentError("root failed");
    return "ok";
  }, { maxAttempts: 1 });
  const app = createHandler(spool);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await app.fetch(new Request(`http://spool.test${path}`, {
      method,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json" },
    }));
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const finished = (id: string) =>
    waitFor(`workflow ${id} finished`, async () => {
      const { body } = await call("GET", `/workflows/${id}`);
      return body.status !== "running" ? body : null;
    });
  return { spool, call, finished };
}

describe("workflow routes", () => {
  it("POST /workflows starts one (201), and refuses a bad body or option with 400", async () => {
    const { call } = await setup();
    const created = await call("POST", "/workflows", { type: "root", payload: { n: 1 }, workflowId: "wf-1" });
    expect(created).toEqual({ status: 201, body: { workflowId: "wf-1", id: expect.any(String) } });
    expect((await call("POST", "/workflows", { payload: 1 })).body).toMatchObject({ error: { code: "INVALID_BODY" } });
    expect((await call("POST", "/workflows", "{nope")).status).toBe(400);
    const bad = await call("POST", "/workflows", { type: "root", after: ["123456"] });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "INVALID_OPTIONS", message: expect.stringContaining("123456") } } });
  });

  it("GET /workflows/:id answers the workflow with its jobs, or 404", async () => {
    const { spool, call, finished } = await setup();
    const { body } = await call("POST", "/workflows", { type: "root", payload: {} });
    const worker = await spool.start({ http: false, minPollMs: 5, maxPollMs: 20 });
    cleanups.push(() => worker.stop());
    const workflow = await finished(body.workflowId);
    expect(workflow).toMatchObject({ id: body.workflowId, status: "completed", counts: { jobs: 1, completed: 1 }, jobs: [{ id: body.id, result: "ok", after: [] }] });
    expect(await call("GET", "/workflows/nope")).toMatchObject({ status: 404, body: { error: { code: "WORKFLOW_NOT_FOUND" } } });
  });

  it("GET /workflows lists a page with filters, and answers 400 for a bad status or limit", async () => {
    const { call } = await setup();
    await call("POST", "/workflows", { type: "root", payload: {}, workflowId: "a" });
    await call("POST", "/workflows", { type: "root", payload: {}, workflowId: "b" });
    const page = await call("GET", "/workflows?status=running&type=root&limit=1");
    expect(page).toMatchObject({ status: 200, body: { workflows: [{ id: "b", status: "running" }], nextCursor: expect.any(String) } });
    const next = await call("GET", `/workflows?limit=1&cursor=${page.body.nextCursor}`);
    expect(next.body).toMatchObject({ workflows: [{ id: "a" }], nextCursor: null });
    expect(await call("GET", "/workflows?status=waiting")).toMatchObject({ status: 400, body: { error: { code: "INVALID_QUERY" } } });
    expect(await call("GET", "/workflows?limit=0")).toMatchObject({ status: 400, body: { error: { code: "INVALID_OPTIONS" } } });
  });

  it("POST /workflows/:id/cancel cancels (200), then answers 409; 404 for an unknown one", async () => {
    const { call } = await setup();
    await call("POST", "/workflows", { type: "root", payload: {}, workflowId: "c" });
    expect(await call("POST", "/workflows/c/cancel")).toEqual({ status: 200, body: { workflowId: "c", status: "cancelled", jobs: 1 } });
    expect((await call("GET", "/workflows/c")).body.status).toBe("cancelled");
    expect(await call("POST", "/workflows/c/cancel")).toMatchObject({ status: 409, body: { error: { code: "INVALID_STATE" } } });
    expect(await call("POST", "/workflows/x/cancel")).toMatchObject({ status: 404, body: { error: { code: "WORKFLOW_NOT_FOUND" } } });
  });

  it("POST /workflows/:id/retry sends dead jobs back (200), and answers 409 with none dead; 404 for an unknown one", async () => {
    const { spool, call, finished } = await setup();
    await call("POST", "/workflows", { type: "root", payload: { fail: true }, workflowId: "r" });
    const worker = await spool.start({ http: false, minPollMs: 5, maxPollMs: 20 });
    cleanups.push(() => worker.stop());
    expect((await finished("r")).status).toBe("failed");
    expect(await call("POST", "/workflows/r/retry")).toEqual({ status: 200, body: { workflowId: "r", status: "running", jobs: 1 } });
    expect((await finished("r")).status).toBe("failed");
    await call("POST", "/workflows", { type: "root", payload: {}, workflowId: "fine" });
    await finished("fine");
    expect(await call("POST", "/workflows/fine/retry")).toMatchObject({ status: 409, body: { error: { code: "INVALID_STATE" } } });
    expect(await call("POST", "/workflows/x/retry")).toMatchObject({ status: 404, body: { error: { code: "WORKFLOW_NOT_FOUND" } } });
  });
});
