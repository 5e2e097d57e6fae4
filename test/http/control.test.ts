/**
 * The control routes, in process through `app.fetch`: POST /jobs with an
 * array, POST /jobs/retry-dead, POST /jobs/purge, GET /queues and the new
 * GET /jobs filters, each with its success and every error status.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createHandler } from "../../src/http/handler.ts";
import { enqueueJobs, finishJobs } from "../support/finished-jobs.ts";
import { openSpool } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const opened = await openSpool();
  cleanups.push(opened.cleanup);
  const app = createHandler(opened.spool);
  const call = async (method: string, path: string, body?: unknown) => {
    const text = typeof body === "string" || body === undefined ? body : JSON.stringify(body);
    const response = await app.fetch(new Request(`http://spool.test${path}`, { method, body: text, headers: { "content-type": "application/json" } }));
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };
  const total = async () => Object.values(await opened.spool.countJobs()).reduce((a, b) => a + b, 0);
  return { spool: opened.spool, call, total };
}

describe("POST /jobs with an array", () => {
  it("enqueues every item in one transaction and answers 201 with [{ id, deduplicated }] in input order", async () => {
    const { spool, call } = await setup();
    const response = await call("POST", "/jobs", [
      { type: "send", payload: { to: "a" }, idempotencyKey: "k1" },
      { type: "bill", payload: { n: 1 }, queue: "money", priority: 10 },
      { type: "send", payload: { to: "again" }, idempotencyKey: "k1" },
      { type: "noop" },
    ]);
    expect(response.status).toBe(201);
    const [first, second, third, fourth] = response.body as Array<{ id: string; deduplicated: boolean }>;
    expect(response.body).toHaveLength(4);
    expect([first!.deduplicated, second!.deduplicated, third!.deduplicated, fourth!.deduplicated]).toEqual([false, false, true, false]);
    expect(third!.id).toBe(first!.id);
    expect(Number(second!.id)).toBeGreaterThan(Number(first!.id));
    expect(await spool.getJob(second!.id)).toMatchObject({ type: "bill", payload: { n: 1 }, queue: "money", priority: 10 });
    expect(await spool.getJob(fourth!.id)).toMatchObject({ type: "noop", payload: null });
    expect((await call("POST", "/jobs", [])).body).toEqual([]);
  });

  it("answers 400 naming the bad item, and writes none of the items", async () => {
    const { call, total } = await setup();
    const cases: Array<[unknown, RegExp]> = [
      [[{ type: "ok" }, 5], /item 1 must be a JSON object/],
      [[{ type: "ok" }, [{ type: "x" }]], /item 1 must be a JSON object/],
      [[{ type: "ok" }, { payload: {} }], /item 1 needs "type"/],
      [[{ type: 7 }], /item 0: "type" must be a string/],
      [[{ type: "ok" }, { type: "ok", priority: "high" }], /item 1: priority must be an integer/],
      [[{ type: "ok" }, { type: "ok", colour: "red" }], /item 1: .*unknown option "colour"/],
      ["7", /must be a JSON object or an array of them/],
    ];
    for (const [body, message] of cases) {
      const response = await call("POST", "/jobs", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    expect(await total()).toBe(0);
  });

  it("answers 413 for an array over the body limit", async () => {
    const { call, total } = await setup();
    const big = Array.from({ length: 300 }, () => ({ type: "t", payload: "x".repeat(4_000) }));
    const response = await call("POST", "/jobs", big);
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe("BODY_TOO_LARGE");
    expect(await total()).toBe(0);
  });
});

describe("POST /jobs/retry-dead", () => {
  it("replays the dead jobs of a queue, of a type, or all, and answers { retried }", async () => {
    const { spool, call } = await setup();
    const mail = await enqueueJobs(spool, 3, "send", { queue: "mail" });
    const other = await enqueueJobs(spool, 2, "bill");
    await finishJobs(spool, [...mail, ...other], "dead", 1_000);

    expect(await call("POST", "/jobs/retry-dead", { queue: "mail" })).toMatchObject({ status: 200, body: { retried: 3 } });
    expect((await spool.getJob(other[0]!))!.status).toBe("dead");
    expect(await call("POST", "/jobs/retry-dead", { type: "nothing" })).toMatchObject({ status: 200, body: { retried: 0 } });
    expect(await call("POST", "/jobs/retry-dead", {})).toMatchObject({ status: 200, body: { retried: 2 } });
    expect((await spool.countJobs()).dead).toBe(0);
  });

  it("answers 400 for a bad body or filter, 405 for another method and 503 once the Spool is closed", async () => {
    const { spool, call } = await setup();
    const dead = await enqueueJobs(spool, 1);
    await finishJobs(spool, dead, "dead", 1_000);
    const cases: Array<[unknown, string, RegExp]> = [
      ["{oops", "INVALID_JSON", /not valid JSON/],
      ["", "INVALID_BODY", /empty/],
      [[], "INVALID_BODY", /must be a JSON object/],
      [{ status: "dead" }, "INVALID_BODY", /unknown field "status"; expected type, queue/],
      [{ type: "a b" }, "INVALID_OPTIONS", /job type/],
      [{ queue: 5 }, "INVALID_OPTIONS", /queue name/],
    ];
    for (const [body, code, message] of cases) {
      const response = await call("POST", "/jobs/retry-dead", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code, JSON.stringify(body)).toBe(code);
      expect(response.body.error.message).toMatch(message);
    }
    expect((await spool.countJobs()).dead).toBe(1);
    const put = await call("PUT", "/jobs/retry-dead", {});
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toContain("POST");
    await spool.close();
    expect(await call("POST", "/jobs/retry-dead", {})).toMatchObject({ status: 503, body: { error: { code: "CLOSED" } } });
  });
});

describe("POST /jobs/purge", () => {
  it("deletes the finished jobs asked for and answers { purged }", async () => {
    const { spool, call } = await setup();
    const old = await enqueueJobs(spool, 3, "send");
    const recent = await enqueueJobs(spool, 2, "send");
    const other = await enqueueJobs(spool, 1, "bill");
    await finishJobs(spool, [...old, ...other], "dead", Date.now() - 10 * 60_000);
    await finishJobs(spool, recent, "dead", Date.now());

    expect(await call("POST", "/jobs/purge", { status: "dead", olderThanMs: 5 * 60_000, type: "send" })).toMatchObject({ status: 200, body: { purged: 3 } });
    expect(await call("POST", "/jobs/purge", { status: "completed" })).toMatchObject({ status: 200, body: { purged: 0 } });
    expect(await call("POST", "/jobs/purge", { status: "dead" })).toMatchObject({ status: 200, body: { purged: 3 } });
    expect((await spool.countJobs()).dead).toBe(0);
  });

  it("answers 400 for a missing or active status, a bad age and an unknown field, 413 for a huge body, 503 once closed", async () => {
    const { spool, call } = await setup();
    const dead = await enqueueJobs(spool, 1);
    await finishJobs(spool, dead, "dead", 1_000);
    const cases: Array<[unknown, string, RegExp]> = [
      [{}, "INVALID_BODY", /needs "status"/],
      [{ status: "running" }, "INVALID_OPTIONS", /finished jobs only/],
      [{ status: "dead", olderThanMs: -5 }, "INVALID_OPTIONS", /olderThanMs/],
      [{ status: "dead", olderThanMs: "7d" }, "INVALID_OPTIONS", /olderThanMs/],
      [{ status: "dead", queue: "q" }, "INVALID_BODY", /unknown field "queue"/],
      ["[1]", "INVALID_BODY", /must be a JSON object/],
      ["{", "INVALID_JSON", /not valid JSON/],
    ];
    for (const [body, code, message] of cases) {
      const response = await call("POST", "/jobs/purge", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code, JSON.stringify(body)).toBe(code);
      expect(response.body.error.message).toMatch(message);
    }
    const huge = await call("POST", "/jobs/purge", { status: "dead", type: "x".repeat(70_000) });
    expect(huge.status).toBe(413);
    expect((await spool.countJobs()).dead).toBe(1);
    await spool.close();
    expect((await call("POST", "/jobs/purge", { status: "dead" })).status).toBe(503);
  });
});

describe("GET /queues", () => {
  it("answers { queues } with each queue's pause state, counts and oldest pending age", async () => {
    const { spool, call } = await setup();
    await spool.enqueue("send", {}, { queue: "mail" });
    await spool.pauseQueue("mail");
    const response = await call("GET", "/queues");
    expect(response.status).toBe(200);
    expect(response.body.queues).toHaveLength(1);
    expect(response.body.queues[0]).toMatchObject({ name: "mail", paused: true, counts: { pending: 1, dead: 0 } });
    expect(response.body.queues[0].oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
  });

  it("answers 405 for another method and 503 once the Spool is closed", async () => {
    const { spool, call } = await setup();
    expect((await call("DELETE", "/queues")).status).toBe(405);
    await spool.close();
    expect((await call("GET", "/queues")).status).toBe(503);
  });
});

describe("GET /jobs filters", () => {
  it("narrows by queue, workflowId and q, and answers 400 for a bad one", async () => {
    const { spool, call } = await setup();
    const a = await spool.enqueue("send", { orderId: "A-1" }, { queue: "mail", workflowId: "wf" });
    await spool.enqueue("send", { orderId: "B-2" }, { queue: "mail" });
    await spool.enqueue("bill", { orderId: "A-1" });
    const page = await call("GET", "/jobs?status=pending&queue=mail&workflowId=wf&q=A-1");
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ jobs: [JSON.parse(JSON.stringify(await spool.getJob(a.id)))], nextCursor: null });
    expect((await call("GET", "/jobs?status=pending&q=A-1")).body.jobs).toHaveLength(2);
    for (const query of ["q=", `q=${"x".repeat(201)}`, "queue=", "workflowId="]) {
      const response = await call("GET", `/jobs?status=pending&${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error.code).toBe("INVALID_OPTIONS");
    }
  });
});

describe("the control routes behind the token", () => {
  it("need the API token for retry-dead, purge and an array enqueue, and the read token is enough for GET /queues and filtered GET /jobs", async () => {
    const opened = await openSpool();
    cleanups.push(opened.cleanup);
    const { spool } = opened;
    const handler = createHandler(spool, { apiToken: "admin-token-0123456789", readToken: "read-token-0123456789" });
    const call = async (method: string, path: string, token: string | null, body?: unknown) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await handler.fetch(new Request(`http://spool.test${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
      return { status: response.status, body: (await response.json()) as any };
    };
    const dead = await enqueueJobs(spool, 2);
    await finishJobs(spool, dead, "dead", 1_000);
    const mutations: Array<[string, unknown]> = [
      ["/jobs/retry-dead", {}],
      ["/jobs/purge", { status: "dead" }],
      ["/jobs", [{ type: "t" }]],
    ];
    for (const [path, body] of mutations) {
      expect((await call("POST", path, null, body)).status, path).toBe(401);
      expect((await call("POST", path, "read-token-0123456789", body)).status, path).toBe(403);
    }
    expect((await call("GET", "/queues", null)).status).toBe(401);
    expect((await call("GET", "/jobs?q=x", null)).status).toBe(401);
    expect(await total()).toBe(2);

    expect((await call("GET", "/queues", "read-token-0123456789")).status).toBe(200);
    expect((await call("GET", "/jobs?q=%22i%22", "read-token-0123456789")).body.jobs).toHaveLength(2);
    expect(await call("POST", "/jobs/retry-dead", "admin-token-0123456789", {})).toMatchObject({ status: 200, body: { retried: 2 } });
    expect((await call("POST", "/jobs", "admin-token-0123456789", [{ type: "t" }])).status).toBe(201);
    expect((await call("POST", "/jobs/purge", "admin-token-0123456789", { status: "dead" })).body).toEqual({ purged: 0 });

    async function total() {
      return Object.values(await spool.countJobs()).reduce((a, b) => a + b, 0);
    }
  });
});
