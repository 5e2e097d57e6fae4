/**
 * GET /metrics and GET /stats: Prometheus text that a real parser reads,
 * counters and histograms that move as jobs run, gauges equal to the
 * database's rows, the stats page's shape, and both routes with and without
 * the tokens.
 */
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { type HandlerOptions, createHandler } from "../../src/http/handler.ts";
import type { Spool } from "../../src/spool.ts";
import { type Exposition, parseExposition, sampleValue } from "../support/prometheus.ts";
import { deferred, openSpool, waitFor } from "../support/system.ts";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const API = "api-token-0123456789";
const READ = "read-token-0123456789";
const METRICS = "metrics-token-0123456789";

async function setup(options: HandlerOptions = {}) {
  const opened = await openSpool();
  cleanups.push(opened.cleanup);
  const app = createHandler(opened.spool, options);
  const get = (path: string, token?: string) =>
    app.fetch(new Request(`http://spool.test${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }));
  return { spool: opened.spool, url: opened.url, get };
}

async function scrape(get: (path: string, token?: string) => Promise<Response>, token?: string): Promise<Exposition> {
  const response = await get("/metrics", token);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await response.text());
}

async function runUntil(spool: Spool, done: Promise<unknown>) {
  const worker = await spool.start({ concurrency: 4, minPollMs: 5, maxPollMs: 20 });
  cleanups.push(() => worker.stop({ graceMs: 0 }));
  await done;
  return worker;
}

describe("GET /metrics", () => {
  it("parses as Prometheus text, and its counters and histograms move as jobs run", async () => {
    const { spool, get } = await setup();
    const before = await scrape(get);
    for (const name of ["spool_jobs_enqueued_total", "spool_jobs_completed_total", "spool_jobs_failed_total", "spool_jobs_retried_total", "spool_jobs_dead_total"]) {
      expect(before.types.get(name)).toBe("counter");
    }
    expect(before.types.get("spool_job_run_seconds")).toBe("histogram");
    expect(before.types.get("spool_job_wait_seconds")).toBe("histogram");
    expect(before.types.get("spool_jobs")).toBe("gauge");
    expect(before.types.get("spool_queue_oldest_pending_seconds")).toBe("gauge");
    expect(sampleValue(before, "spool_workers")).toBe(0);

    let remaining = 5;
    const done = deferred();
    spool.define("ok", () => {
      if (--remaining === 0) done.resolve();
    });
    spool.define("bad", () => {
      throw new Error("no");
    }, { maxAttempts: 2, backoff: { type: "fixed", baseMs: 1, jitter: false } });
    const dead = deferred();
    spool.on("dead", () => dead.resolve());
    await spool.enqueueMany(Array.from({ length: 5 }, () => ({ type: "ok", payload: {}, options: { queue: "mail" } })));
    await spool.enqueue("bad", {});
    await runUntil(spool, Promise.all([done.promise, dead.promise]));
    await waitFor("the completions counted", async () => sampleValue(await scrape(get), "spool_jobs_completed_total", { type: "ok", queue: "mail" }) === 5);

    const after = await scrape(get);
    expect(sampleValue(after, "spool_jobs_enqueued_total", { type: "ok", queue: "mail" })).toBe(5);
    expect(sampleValue(after, "spool_jobs_enqueued_total", { type: "bad", queue: "default" })).toBe(1);
    expect(sampleValue(after, "spool_jobs_failed_total", { type: "bad", queue: "default" })).toBe(2);
    expect(sampleValue(after, "spool_jobs_retried_total", { type: "bad", queue: "default" })).toBe(1);
    expect(sampleValue(after, "spool_jobs_dead_total", { type: "bad", queue: "default" })).toBe(1);
    expect(sampleValue(after, "spool_jobs_completed_total", { type: "bad" })).toBeUndefined();
    expect(sampleValue(after, "spool_job_run_seconds_count", { type: "ok" })).toBe(5);
    expect(sampleValue(after, "spool_job_run_seconds_bucket", { type: "ok", le: "+Inf" })).toBe(5);
    expect(sampleValue(after, "spool_job_run_seconds_sum", { type: "ok" })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(after, "spool_job_wait_seconds_count", { type: "bad" })).toBe(2);
    expect(sampleValue(after, "spool_workers")).toBe(1);
  });

  it("reports gauges equal to the database's rows by queue and status, and the oldest pending job's age", async () => {
    const { spool, url, get } = await setup();
    spool.define("ok", () => undefined);
    const done = deferred();
    let remaining = 3;
    spool.on("completed", () => --remaining === 0 && done.resolve());
    await spool.enqueueMany(Array.from({ length: 3 }, () => ({ type: "ok", payload: {}, options: { queue: "a" } })));
    const worker = await runUntil(spool, done.promise);
    await worker.stop();
    await spool.pauseQueue("b");
    await spool.enqueue("ok", {}, { queue: "b" });
    await spool.enqueue("ok", {}, { queue: "b", delayMs: 60_000 });
    const { id } = await spool.enqueue("ok", {}, { queue: "a", delayMs: 60_000 });
    await spool.cancel(id);

    const scraped = await scrape(get);
    const client = createClient({ url });
    const rows = (await client.execute("SELECT queue, status, count(*) AS n FROM spool_jobs GROUP BY queue, status")).rows;
    client.close();
    const gauges = scraped.samples.filter((s) => s.name === "spool_jobs");
    for (const row of rows) expect(sampleValue(scraped, "spool_jobs", { queue: String(row.queue), status: String(row.status) })).toBe(Number(row.n));
    expect(gauges.reduce((sum, s) => sum + s.value, 0)).toBe(rows.reduce((sum, r) => sum + Number(r.n), 0));
    expect(sampleValue(scraped, "spool_jobs", { queue: "a", status: "completed" })).toBe(3);
    expect(sampleValue(scraped, "spool_jobs", { queue: "a", status: "cancelled" })).toBe(1);
    expect(sampleValue(scraped, "spool_jobs", { queue: "a", status: "pending" })).toBe(0);
    // the paused queue's pending job has waited since its runAt
    const waiting = (await spool.listJobs({ status: "pending" })).jobs[0]!;
    const oldest = sampleValue(scraped, "spool_queue_oldest_pending_seconds", { queue: "b" })!;
    expect(oldest).toBeGreaterThan(0);
    expect(oldest).toBeLessThanOrEqual((Date.now() - waiting.runAt) / 1000);
    expect(sampleValue(scraped, "spool_queue_oldest_pending_seconds", { queue: "a" })).toBe(0);
  });

  it("is open without a metrics token even when the API has one", async () => {
    const { get } = await setup({ apiToken: API });
    expect((await get("/metrics")).status).toBe(200);
    expect((await get("/stats")).status).toBe(401);
  });

  it("needs the metrics, read or API token once a metrics token is set", async () => {
    const { get } = await setup({ apiToken: API, readToken: READ, metricsToken: METRICS });
    const refused = await get("/metrics");
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: "UNAUTHORIZED" } });
    expect((await get("/metrics", "wrong-token")).status).toBe(401);
    for (const token of [METRICS, READ, API]) expect((await get("/metrics", token)).status).toBe(200);
    // the metrics token reaches nothing else
    expect((await get("/stats", METRICS)).status).toBe(401);
  });
});

describe("GET /stats", () => {
  it("keeps counts and workerId, and adds counts by type and queue, throughput, latency, workers and schedules", async () => {
    const { spool, get } = await setup();
    await spool.schedule("nightly", "0 3 * * *", { type: "ok", payload: {} });
    spool.define("ok", () => undefined);
    spool.define("bad", () => {
      throw new Error("no");
    }, { maxAttempts: 1 });
    const done = deferred();
    let remaining = 4;
    const count = () => --remaining === 0 && done.resolve();
    spool.on("completed", count);
    spool.on("dead", count);
    await spool.enqueueMany([
      { type: "ok", payload: {}, options: { queue: "mail" } },
      { type: "ok", payload: {}, options: { queue: "mail" } },
      { type: "ok", payload: {} },
      { type: "bad", payload: {} },
    ]);
    await spool.enqueue("ok", {}, { delayMs: 600_000 });
    await runUntil(spool, done.promise);
    const stats = await waitFor("this minute's stats written", async () => {
      const response = await get("/stats");
      expect(response.status).toBe(200);
      const body = await response.json();
      return body.throughput.at(-1).completed === 3 ? body : null;
    });
    expect(stats.workerId).toBe(spool.workerId);
    expect(stats.counts).toEqual({ blocked: 0, scheduled: 1, pending: 0, running: 0, completed: 3, dead: 1, cancelled: 0 });
    expect(stats.counts).toEqual(await spool.countJobs());
    expect(stats.byType.ok).toMatchObject({ completed: 3, scheduled: 1 });
    expect(stats.byType.bad).toMatchObject({ dead: 1 });
    expect(stats.byQueue).toEqual({
      default: { blocked: 0, scheduled: 1, pending: 0, running: 0, completed: 1, dead: 1, cancelled: 0 },
      mail: { blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 2, dead: 0, cancelled: 0 },
    });
    expect(stats.throughput).toHaveLength(60);
    const minutes = stats.throughput.map((m: { minute: number }) => m.minute);
    expect(minutes.every((m: number, i: number) => i === 0 || m - minutes[i - 1] === 60_000)).toBe(true);
    expect(minutes[59]).toBe(Math.floor(Date.now() / 60_000) * 60_000);
    expect(stats.throughput.at(-1)).toMatchObject({ completed: 3, failed: 1, dead: 1 });
    expect(stats.latency.ok.run.p50).toEqual(expect.any(Number));
    expect(stats.latency.ok.wait.p99).toEqual(expect.any(Number));
    expect(stats.latency.bad.run).toEqual({ p50: null, p95: null, p99: null });
    expect(stats.workers).toEqual([{ id: spool.workerId, lastSeenAt: expect.any(Number) }]);
    expect(stats.schedules).toEqual([
      expect.objectContaining({ name: "nightly", cron: "0 3 * * *", type: "ok", paused: false, nextFireAt: expect.any(Number) }),
    ]);
  });

  it("needs the read or API token when the API has a token", async () => {
    const { get } = await setup({ apiToken: API, readToken: READ });
    expect((await get("/stats")).status).toBe(401);
    expect((await get("/stats", "wrong-token")).status).toBe(401);
    expect((await get("/stats", READ)).status).toBe(200);
    expect((await get("/stats", API)).status).toBe(200);
  });

  it("answers 503 once the Spool is closed", async () => {
    const { spool, get } = await setup();
    await spool.close();
    const response = await get("/stats");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "CLOSED" } });
    expect((await get("/metrics")).status).toBe(503);
  });
});
