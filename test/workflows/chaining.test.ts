/**
 * Starting workflows and chaining jobs from handlers: which jobs are in a
 * workflow, staged children written exactly when their parent's attempt
 * completes, references to staged jobs, and handler results.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SpoolError } from "../../src/index.ts";
import type { StagedJob } from "../../src/core/job.ts";
import { deferred } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";
import { workflowSystem } from "./support.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const allJobs = async (spool: { listJobs: (q: { status: "completed" | "dead" | "pending" | "scheduled" | "cancelled" | "blocked"; limit: number }) => Promise<{ jobs: Array<{ id: string; type: string; workflowId: string | null; parentId: string | null; status: string }> }> }) => {
  const out = [];
  for (const status of ["blocked", "scheduled", "pending", "completed", "dead", "cancelled"] as const) out.push(...(await spool.listJobs({ status, limit: 500 })).jobs);
  return out.sort((a, b) => Number(a.id) - Number(b.id));
};

describe("workflow ids", () => {
  it("gives a started workflow's root and the children it stages one workflow id, and leaves a plain job's children plain", async () => {
    const { spool, start, reach, settled } = await workflowSystem(cleanups);
    spool.define("parent", (_p, ctx) => {
      ctx.enqueue("child", null);
    });
    spool.define("child", () => undefined);
    const plain = await spool.enqueue("parent", null);
    const started = await spool.startWorkflow("parent", null);
    expect(started.workflowId).toMatch(/^[0-9a-f-]{36}$/);
    await start();
    await settled(started.workflowId, "completed");
    await reach(plain.id, "completed");

    const jobs = await allJobs(spool);
    const plainChild = jobs.find((j) => j.parentId === plain.id)!;
    expect(plainChild).toMatchObject({ workflowId: null, parentId: plain.id });
    const workflowChild = jobs.find((j) => j.parentId === started.id)!;
    expect(workflowChild.workflowId).toBe(started.workflowId);
    expect((await spool.getJob(plain.id))!.workflowId).toBeNull();
    expect(await spool.listWorkflows()).toMatchObject({ workflows: [{ id: started.workflowId }], nextCursor: null });
    // every job joined its workflow in the batch that inserted it, and was counted there once
    expect(await spool.getWorkflow(started.workflowId)).toMatchObject({ counts: { jobs: 2, completed: 2 } });
    const halfJoined = await storeOf(spool).db.execute("SELECT count(*) AS n FROM spool_jobs WHERE joining_workflow IS NOT NULL");
    expect(Number(halfJoined.rows[0]!.n)).toBe(0);
  });

  it("takes a caller's workflow id and deduplicates a second start with the same id and idempotency key", async () => {
    const { spool } = await workflowSystem(cleanups);
    spool.define("root", () => undefined);
    const first = await spool.startWorkflow("root", { n: 1 }, { workflowId: "order-42", idempotencyKey: "order-42" });
    const second = await spool.startWorkflow("root", { n: 2 }, { workflowId: "order-42", idempotencyKey: "order-42" });
    expect(first).toEqual({ workflowId: "order-42", id: first.id });
    expect(second).toEqual(first);
    expect((await spool.getWorkflow("order-42"))!.counts.jobs).toBe(1);
    await expect(spool.startWorkflow("root", null, { workflowId: "" })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });
});

describe("staged children", () => {
  it("writes exactly one copy of each child when a parent stages, throws, then stages again and succeeds", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups);
    spool.define(
      "parent",
      (_p, ctx) => {
        ctx.enqueue("child", { n: 1 });
        ctx.enqueue("child", { n: 2 });
        if (ctx.attempt === 1) throw new Error("first attempt fails after staging");
      },
      { backoff: { type: "fixed", baseMs: 0, jitter: false } },
    );
    spool.define("child", () => undefined);
    const { workflowId, id } = await spool.startWorkflow("parent", null);
    await start();
    await reach(id, "completed");
    const workflow = await spool.getWorkflow(workflowId);
    const children = workflow!.jobs.filter((j) => j.parentId === id);
    expect(children.map((j) => j.type)).toEqual(["child", "child"]);
    expect((await spool.getJob(id))!.attempts).toBe(2);
    expect(workflow!.counts.jobs).toBe(3);
  });

  it("writes no child of an attempt that timed out after staging", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups);
    const staged = deferred();
    spool.define(
      "slow_parent",
      async (_p, ctx) => {
        ctx.enqueue("child", null);
        staged.resolve();
        await new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
      },
      { timeoutMs: 100, maxAttempts: 1 },
    );
    spool.define("child", () => undefined);
    const { workflowId, id } = await spool.startWorkflow("slow_parent", null);
    await start();
    await staged.promise;
    const parent = await reach(id, "dead");
    expect(parent.history[0]!.outcome).toBe("timed_out");
    expect((await spool.getWorkflow(workflowId))!.jobs.map((j) => j.id)).toEqual([id]);
    expect((await spool.getWorkflow(workflowId))!.status).toBe("failed");
  });

  it("returns a reference to a staged job that a later ctx.enqueue of the same attempt names in after, and nowhere else", async () => {
    const { spool, start, settled } = await workflowSystem(cleanups);
    let kept: StagedJob | null = null;
    spool.define("root", (_p, ctx) => {
      const a = ctx.enqueue("step", { name: "a" });
      expect(a).toEqual({ type: "step", stage: 0 });
      kept = a;
      ctx.enqueue("step", { name: "b" }, { after: [a] });
    });
    spool.define("step", () => undefined);
    const { workflowId } = await spool.startWorkflow("root", null);
    await start();
    const workflow = await settled(workflowId, "completed");
    const [, a, b] = workflow.jobs;
    expect(b!.after).toEqual([a!.id]);
    const error = await spool.enqueue("step", null, { after: [kept!] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as SpoolError).code).toBe("INVALID_OPTIONS");
    expect((error as SpoolError).message).toContain("after[0]");
  });
});

describe("results", () => {
  it("keeps a handler's return value as the job's result, and none for a handler that returns nothing", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups);
    spool.define("answer", () => ({ answer: 42, list: [1, "two"] }));
    spool.define("nothing", () => undefined);
    const a = await spool.enqueue("answer", null);
    const n = await spool.enqueue("nothing", null);
    await start();
    expect((await reach(a.id, "completed")).result).toEqual({ answer: 42, list: [1, "two"] });
    expect((await reach(n.id, "completed")).result).toBeNull();
  });

  it("fails the attempt with a clear error when the result is over maxResultBytes", async () => {
    const { spool, start, reach } = await workflowSystem(cleanups);
    spool.define("big", () => "x".repeat(70 * 1024), { maxAttempts: 1 });
    const { id } = await spool.enqueue("big", null);
    await start();
    const job = await reach(id, "dead");
    expect(job.result).toBeNull();
    expect(job.lastError).toMatch(/result is \d+ bytes of JSON, over the limit of 65536 bytes \(maxResultBytes\)/);
  });
});
