/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core,
 * against the worker started as a real process (node dist/worker.js) hosting
 * test/browser/jobs.mjs. Node only: run by `npm run test:browser`.
 * Screenshots land in .artifacts/dashboard/.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ROOT, type RunningProcess, freePort, startWorker } from "../support/processes.ts";
import { tempDatabase, waitFor } from "../support/system.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, ".artifacts", "dashboard");
const ADMIN_TOKEN = "admin-token-for-the-dashboard-test";
const READ_TOKEN = "read-token-for-the-dashboard-test";

interface Worker {
  base: string;
  /** Calls the worker's API over HTTP; `token` is sent as the bearer token. */
  call(path: string, options?: { method?: string; body?: unknown; token?: string }): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

async function startDashboardWorker(env: Record<string, string> = {}): Promise<Worker> {
  const db = tempDatabase("spool-dashboard-");
  const port = await freePort();
  let worker: RunningProcess;
  try {
    worker = await startWorker("node", {
      SPOOL_DATABASE_URL: db.url,
      SPOOL_PORT: String(port),
      SPOOL_HOSTNAME: "127.0.0.1",
      SPOOL_JOBS: join(ROOT, "test", "browser", "jobs.mjs"),
      ...env,
    });
  } catch (error) {
    db.cleanup();
    throw error;
  }
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    async call(path, { method = "GET", body, token } = {}) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      worker.kill("SIGTERM");
      await worker.exited;
      db.cleanup();
    },
  };
}

/** A fresh Chromium profile each time: nothing cached, nothing remembered. */
async function openBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "spool-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 860 },
    colorScheme: "light",
  });
  context.setDefaultTimeout(20_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Every request a page made, and every script error it had. */
function watch(page: Page): { requests: string[]; errors: string[] } {
  const seen = { requests: [] as string[], errors: [] as string[] };
  page.on("request", (request) => seen.requests.push(request.url()));
  page.on("pageerror", (error) => seen.errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") seen.errors.push(message.text());
  });
  return seen;
}

async function ready(page: Page): Promise<void> {
  await page.locator("body[data-ready=true]").waitFor();
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

/** The buttons that change something; a read-only token must see none. */
async function actionButtons(page: Page): Promise<number> {
  const marked = await page.locator("[data-action]").count();
  const named = await page.getByRole("button", { name: /retry|cancel|pause|resume|purge/i }).count();
  return marked + named;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe("the dashboard of an open worker", () => {
  let worker: Worker;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  let seen: ReturnType<typeof watch>;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    worker = await startDashboardWorker();
    for (const name of ["ada", "grace", "edsger", "barbara", "needle-4711"]) {
      ids[name] = (await worker.call("/jobs", { method: "POST", body: { type: "greet", payload: { name } } })).body.id;
    }
    for (const orderId of ["A-1", "A-2"]) {
      ids[orderId] = (await worker.call("/jobs", { method: "POST", body: { type: "charge", queue: "billing", payload: { orderId } } })).body.id;
    }
    await worker.call("/jobs", { method: "POST", body: { type: "mail", queue: "mail", payload: { to: "ops@example.com" } } });
    await waitFor("6 jobs completed and 2 dead", async () => {
      const { body } = await worker.call("/stats");
      return body.counts.completed === 6 && body.counts.dead === 2;
    });
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
  });
  beforeEach(async () => {
    page = await browser.context.newPage();
    seen = watch(page);
  });
  afterEach(async () => {
    // every test: no script error, no CSP violation, no request to anywhere but the worker
    expect(seen.errors).toEqual([]);
    expect(seen.requests.filter((url) => !url.startsWith(`${worker.base}/`))).toEqual([]);
    await page.close();
  });

  it("shows the counts the API reports, and retries a dead job from its page until it completes", async () => {
    const counts = (await worker.call("/stats")).body.counts as Record<string, number>;
    await page.goto(`${worker.base}/`);
    await ready(page);
    await page.locator('[data-count-status="dead"] .value', { hasText: "2" }).waitFor();
    for (const [status, count] of Object.entries(counts)) {
      expect(await page.locator(`[data-count-status="${status}"] .value`).getAttribute("data-value"), status).toBe(String(count));
    }
    // the most failing types, from the per-type counts of GET /stats
    expect(await page.locator("[data-list=failing] li").first().textContent()).toBe("charge 2 dead");
    await screenshot(page, "overview.png");

    // open a dead job from the dead count, see its error, retry it from its page
    await page.locator('[data-count-status="dead"]').click();
    await page.locator("table[data-table=jobs] tbody tr").first().waitFor();
    expect(await page.locator("table[data-table=jobs] tbody tr").count()).toBe(2);
    await page.locator(`tr[data-job-id="${ids["A-1"]}"] a`).click();
    await page.locator("h1 .badge", { hasText: "dead" }).waitFor();
    expect(await page.locator("table[data-table=attempts]").textContent()).toContain("card declined for order A-1");
    expect(await page.locator("pre[data-field=payload]").textContent()).toContain('"orderId": "A-1"');
    await screenshot(page, "job.png");
    await page.locator("h1 [data-action=retry]").click();
    await page.locator("h1 .badge", { hasText: "completed" }).waitFor();
    expect((await worker.call(`/jobs/${ids["A-1"]}`)).body.status).toBe("completed");
    expect((await worker.call(`/jobs/${ids["A-2"]}`)).body.status).toBe("dead");

    // a phone in dark mode gets the same page, laid out for it
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(`${worker.base}/#/`);
    await ready(page);
    await screenshot(page, "overview-phone-dark.png");
  });

  it("finds a job by a text in its payload, and opens a job by its id", async () => {
    await page.goto(`${worker.base}/#/jobs`);
    await ready(page);
    await page.locator("form[role=search] select[name=status]").selectOption("completed");
    await page.locator("form[role=search] input[name=q]").fill("needle-4711");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForFunction(() => location.hash.includes("q=needle-4711"));
    await page.locator("table[data-table=jobs], [data-empty=jobs]").first().waitFor();
    const rows = page.locator("table[data-table=jobs] tbody tr");
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute("data-job-id")).toBe(String(ids["needle-4711"]));

    await page.locator("#find-job-id").fill(String(ids["grace"]));
    await page.locator("#find-job-id").press("Enter");
    await page.locator("pre[data-field=payload]", { hasText: '"grace"' }).waitFor();
    expect(await page.locator("pre[data-field=result]").textContent()).toContain("hello grace");
  });

  it("pauses a queue from the queues page, and lists the schedules", async () => {
    await page.goto(`${worker.base}/#/queues`);
    await ready(page);
    await page.locator('tr[data-queue="mail"] [data-action=pause]').click();
    await page.locator('tr[data-queue="mail"] .badge', { hasText: "paused" }).waitFor();
    const queues = (await worker.call("/queues")).body.queues as Array<{ name: string; paused: boolean }>;
    expect(queues.find((q) => q.name === "mail")?.paused).toBe(true);
    expect(queues.find((q) => q.name === "billing")?.paused).toBe(false);
    expect(await page.locator('tr[data-queue="mail"] [data-action=resume]').count()).toBe(1);
    const schedule = await page.locator('tr[data-schedule="nightly_greeting"]').textContent();
    expect(schedule).toContain("0 3 * * *");
    expect(schedule).toContain("Europe/Berlin");
  });

  it("retries every dead job after a confirmation, then purges completed jobs of a type", async () => {
    await page.goto(`${worker.base}/#/jobs?status=dead`);
    await ready(page);
    await page.locator(`tr[data-job-id="${ids["A-2"]}"]`).waitFor();
    await page.locator("[data-action=retry-all]").click();
    await page.locator("#confirm-dialog[open]").waitFor();
    await page.locator("#confirm-ok").click();
    await page.locator("#notice", { hasText: "Retried 1 dead jobs." }).waitFor();
    await waitFor("A-2 completed", async () => (await worker.call(`/jobs/${ids["A-2"]}`)).body.status === "completed");

    await page.goto(`${worker.base}/#/jobs?status=completed&type=greet`);
    await page.locator("table[data-table=jobs] tbody tr").first().waitFor();
    await page.locator("[data-action=purge]").click();
    await page.locator("#confirm-dialog[open]").waitFor();
    await page.locator("#confirm-ok").click();
    await page.locator("#notice", { hasText: "Purged 5 jobs." }).waitFor();
    expect((await worker.call("/jobs?status=completed&type=greet")).body.jobs).toEqual([]);
    expect((await worker.call(`/jobs/${ids["A-2"]}`)).body.status).toBe("completed");
  });

  it("draws a workflow as a graph of its steps, each with its status and type", async () => {
    const started = await worker.call("/workflows", { method: "POST", body: { type: "wf_start", payload: { name: "graph" } } });
    expect(started.status).toBe(201);
    const workflowId = started.body.workflowId as string;
    const workflow = await waitFor("the workflow completed", async () => {
      const { body } = await worker.call(`/workflows/${encodeURIComponent(workflowId)}`);
      return body?.status === "completed" ? body : null;
    });

    await page.goto(`${worker.base}/#/workflows`);
    await ready(page);
    await page.locator(`tr[data-workflow-id="${workflowId}"] a`).click();
    const graph = page.locator("[data-graph=workflow] svg");
    await graph.waitFor();
    const nodes = graph.locator("a.node");
    expect(await nodes.count()).toBe(4);
    const byType = new Map<string, string>();
    for (const job of workflow.jobs as Array<{ id: string; type: string }>) byType.set(job.type, String(job.id));
    for (const type of ["wf_start", "wf_left", "wf_right", "wf_join"]) {
      const node = graph.locator(`a.node[data-job-id="${byType.get(type)}"]`);
      expect(await node.locator("text.type").textContent()).toBe(type);
      expect(await node.getAttribute("data-status")).toBe("completed");
    }
    const edges = await graph.locator("path.edge").evaluateAll((paths) => paths.map((p) => `${p.getAttribute("data-from")}>${p.getAttribute("data-to")}`).sort());
    const edge = (from: string, to: string) => `${byType.get(from)}>${byType.get(to)}`;
    expect(edges).toEqual([edge("wf_start", "wf_left"), edge("wf_start", "wf_right"), edge("wf_left", "wf_join"), edge("wf_right", "wf_join")].sort());
    // fan-out and fan-in: both branches share a column between the start and the join
    const x = async (type: string) => Number(await graph.locator(`a.node[data-job-id="${byType.get(type)}"] rect`).first().getAttribute("x"));
    expect(await x("wf_left")).toBe(await x("wf_right"));
    expect(await x("wf_start")).toBeLessThan(await x("wf_left"));
    expect(await x("wf_join")).toBeGreaterThan(await x("wf_left"));
    await screenshot(page, "workflow.png");
  });
});

describe("the dashboard of a worker with API tokens", () => {
  let worker: Worker;
  beforeAll(async () => {
    worker = await startDashboardWorker({ SPOOL_API_TOKEN: ADMIN_TOKEN, SPOOL_API_READ_TOKEN: READ_TOKEN });
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it("loads without a token, asks for it on the first 401, and keeps it for the tab", async () => {
    const page0 = await fetch(`${worker.base}/`);
    expect(page0.status).toBe(200);
    expect(page0.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect((await fetch(`${worker.base}/dashboard/app.js`)).status).toBe(200);
    expect((await worker.call("/stats")).status).toBe(401);
    const id = (await worker.call("/jobs", { method: "POST", token: ADMIN_TOKEN, body: { type: "charge", payload: { orderId: "T-1" } } })).body.id;
    await waitFor("the charge died", async () => (await worker.call(`/jobs/${id}`, { token: ADMIN_TOKEN })).body.status === "dead");

    const browser = await openBrowser();
    cleanups.push(() => browser.close());
    const page = await browser.context.newPage();
    await page.goto(`${worker.base}/`);
    await page.locator("#token-dialog[open]").waitFor();
    await page.locator("#token-input").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Use token" }).click();
    await ready(page);
    await page.locator('[data-count-status="dead"] .value', { hasText: "1" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("spool.apiToken"))).toBe(ADMIN_TOKEN);

    await page.reload();
    await ready(page);
    expect(await page.locator("#token-dialog[open]").count()).toBe(0);
    await page.goto(`${worker.base}/#/jobs/${id}`);
    await page.locator("h1 .badge", { hasText: "dead" }).waitFor();
    expect(await page.locator("h1 [data-action=retry]").count()).toBe(1);
  });

  it("shows a read-only token no action button, and the API refuses its forged mutation with 403", async () => {
    const id = (await worker.call("/jobs", { method: "POST", token: ADMIN_TOKEN, body: { type: "charge", queue: "billing", payload: { orderId: "R-1" } } })).body.id;
    await waitFor("the charge died", async () => (await worker.call(`/jobs/${id}`, { token: ADMIN_TOKEN })).body.status === "dead");
    expect((await worker.call("/access", { token: READ_TOKEN })).body).toEqual({ access: "read" });

    const browser = await openBrowser();
    cleanups.push(() => browser.close());
    const page = await browser.context.newPage();
    await page.goto(`${worker.base}/`);
    await page.locator("#token-dialog[open]").waitFor();
    await page.locator("#token-input").fill(READ_TOKEN);
    await page.getByRole("button", { name: "Use token" }).click();
    await ready(page);
    expect(await page.locator("body").getAttribute("data-access")).toBe("read");

    await page.locator('tr[data-queue="billing"]').waitFor();
    expect(await actionButtons(page)).toBe(0);
    await page.goto(`${worker.base}/#/jobs?status=dead`);
    await page.locator(`tr[data-job-id="${id}"]`).waitFor();
    expect(await actionButtons(page)).toBe(0);
    await page.goto(`${worker.base}/#/jobs/${id}`);
    await page.locator("h1 .badge", { hasText: "dead" }).waitFor();
    expect(await actionButtons(page)).toBe(0);
    await page.goto(`${worker.base}/#/queues`);
    await page.locator('tr[data-schedule="nightly_greeting"]').waitFor();
    expect(await actionButtons(page)).toBe(0);

    const forged = await page.evaluate(
      async ({ id, token }) => {
        const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
        const retry = await fetch(`/jobs/${id}/retry`, { method: "POST", headers, body: "{}" });
        const pause = await fetch("/queues/billing/pause", { method: "POST", headers, body: "{}" });
        return [retry.status, pause.status];
      },
      { id, token: READ_TOKEN },
    );
    expect(forged).toEqual([403, 403]);
    expect((await worker.call(`/jobs/${id}`, { token: ADMIN_TOKEN })).body.status).toBe("dead");
  });
});
