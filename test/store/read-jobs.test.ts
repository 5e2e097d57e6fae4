/**
 * Listing jobs with filters beyond status and type: queue, workflow and a
 * payload text search, each page bounded however rare the matches are.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Spool } from "../../src/spool.ts";
import { FILTER_WINDOW } from "../../src/store/read-jobs.ts";
import { enqueueJobs, finishJobs } from "../support/finished-jobs.ts";
import { openSpool } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const opened = await openSpool();
  cleanups.push(opened.cleanup);
  return opened.spool;
}

const ids = (page: { jobs: Array<{ id: string }> }) => page.jobs.map((j) => j.id);

async function allPages(spool: Spool, query: Parameters<Spool["listJobs"]>[0]) {
  const pages: Array<{ ids: string[]; nextCursor: string | null }> = [];
  let cursor: string | undefined;
  do {
    const page = await spool.listJobs({ ...query, cursor });
    pages.push({ ids: ids(page), nextCursor: page.nextCursor });
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return pages;
}

describe("listJobs filters", () => {
  it("narrows a status to a queue, a workflow or a payload text, in id order, and combines them", async () => {
    const spool = await setup();
    const a = await spool.enqueue("send", { orderId: "A-1" }, { queue: "mail", workflowId: "wf-1" });
    const b = await spool.enqueue("send", { orderId: "A-12" }, { queue: "mail" });
    const c = await spool.enqueue("bill", { orderId: "A-1" }, { workflowId: "wf-1" });
    const d = await spool.enqueue("bill", { orderId: "B-7" });
    await finishJobs(spool, [d.id], "dead", 1_000);

    expect(ids(await spool.listJobs({ status: "pending", queue: "mail" }))).toEqual([a.id, b.id]);
    expect(ids(await spool.listJobs({ status: "pending", workflowId: "wf-1" }))).toEqual([a.id, c.id]);
    expect(ids(await spool.listJobs({ status: "pending", q: '"A-1"' }))).toEqual([a.id, c.id]);
    expect(ids(await spool.listJobs({ status: "pending", q: "A-1" }))).toEqual([a.id, b.id, c.id]);
    expect(ids(await spool.listJobs({ status: "pending", q: "a-1" }))).toEqual([]);
    expect(ids(await spool.listJobs({ status: "pending", q: "A-1", type: "bill" }))).toEqual([c.id]);
    expect(ids(await spool.listJobs({ status: "pending", q: "A-1", queue: "mail", workflowId: "wf-1" }))).toEqual([a.id]);
    expect(ids(await spool.listJobs({ status: "pending", workflowId: "wf-1", type: "send" }))).toEqual([a.id]);
    expect(ids(await spool.listJobs({ status: "dead", q: "B-7" }))).toEqual([d.id]);
    expect(ids(await spool.listJobs({ status: "dead", workflowId: "wf-1" }))).toEqual([]);

    const first = await spool.listJobs({ status: "pending", q: "A-1", limit: 2 });
    expect(ids(first)).toEqual([a.id, b.id]);
    expect(first.nextCursor).toBe(b.id);
    expect(await spool.listJobs({ status: "pending", q: "A-1", limit: 2, cursor: first.nextCursor! })).toEqual({
      jobs: [await spool.getJob(c.id)],
      nextCursor: null,
    });
  });

  it(`looks at no more than ${FILTER_WINDOW} jobs for one page and hands back a cursor to go on`, async () => {
    const spool = await setup();
    const all = await enqueueJobs(spool, FILTER_WINDOW + 2_000);
    await finishJobs(spool, "all", "dead", 1_000);
    const rare = [all[4]!, all[FILTER_WINDOW + 1_500]!];
    await storeOf(spool).db.execute({
      sql: `UPDATE spool_jobs SET payload = '{"needle":true}' WHERE id IN (SELECT value FROM json_each(?))`,
      args: [JSON.stringify(rare.map(Number))],
    });

    const pages = await allPages(spool, { status: "dead", q: "needle" });
    expect(pages).toEqual([
      { ids: [rare[0]], nextCursor: all[FILTER_WINDOW - 1] },
      { ids: [rare[1]], nextCursor: null },
    ]);
    const byQueue = await allPages(spool, { status: "dead", queue: "elsewhere" });
    expect(byQueue).toEqual([
      { ids: [], nextCursor: all[FILTER_WINDOW - 1] },
      { ids: [], nextCursor: null },
    ]);
  });

  it("refuses an empty or overlong search, and a bad queue or workflow id, with INVALID_OPTIONS", async () => {
    const spool = await setup();
    for (const bad of [{ q: "" }, { q: "x".repeat(201) }, { q: 5 }, { queue: "" }, { workflowId: "" }, { workflowId: 7 }]) {
      await expect(spool.listJobs({ status: "pending", ...(bad as object) }), JSON.stringify(bad)).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    }
  });
});
