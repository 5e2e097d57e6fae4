/**
 * Retries, backoff and permanent failure, driven through a real worker on a
 * real database file: handlers really throw, and every assertion reads the
 * job's row back.
 */
import { afterEach, describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/core/backoff.ts";
import { PermanentError, SpoolError } from "../../src/index.ts";
import type { Job } from "../../src/core/job.ts";
import type { SpoolOptions } from "../../src/spool.ts";
import { reachStatus } from "../support/job-status.ts";
import { openSpool, waitFor } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const NO_WAIT = { type: "fixed", baseMs: 0, jitter: false } as const;

async function setup(options: Partial<SpoolOptions> = {}) {
  const { spool, cleanup } = await openSpool({ workerId: "retry-worker", ...options });
  cleanups.push(cleanup);
  const start = () => spool.start({ http: false, minPollMs: 5, maxPollMs: 50 });
  /** Resolves with the job once it reaches `status`. */
  const reach = (id: string, status: Job["status"]) => reachStatus(spool, id, status);
  /** Resolves with the job once it has failed `n` attempts and waits for the next. */
  const failedAttempts = (id: string, n: number) =>
    waitFor(`job ${id} to be scheduled after ${n} failed attempts`, async () => {
      const job = await spool.getJob(id);
      return job?.status === "scheduled" && job.history.length === n ? job : null;
    });
  return { spool, start, reach, failedAttempts };
}

describe("retries", () => {
  it("retries a failing job and completes it on a later attempt, keeping every failure in the history", async () => {
    const { spool, start, reach } = await setup();
    spool.define(
      "flaky",
      async (_payload, ctx) => {
        if (ctx.attempt < 3) throw new Error(`flaky failure ${ctx.attempt}`);
        return "ok";
      },
      { maxAttempts: 3, backoff: { type: "fixed", baseMs: 50, jitter: false } },
    );
    const { id } = await spool.enqueue("flaky", { n: 1 });
    await start();

    const job = await reach(id, "completed");
    expect(job.attempts).toBe(3);
    expect(job.finishedAt).not.toBeNull();
    expect(job.history.map((a) => [a.attempt, a.outcome, a.error])).toEqual([
      [1, "failed", "flaky failure 1"],
      [2, "failed", "flaky failure 2"],
      [3, "completed", null],
    ]);
    for (const attempt of job.history) {
      expect(attempt.workerId).toBe("retry-worker");
      expect(attempt.finishedAt).toBeGreaterThanOrEqual(attempt.startedAt);
      expect(attempt.durationMs).toBe(attempt.finishedAt - attempt.startedAt);
    }
    expect(job.history[0]!.stack).toContain("flaky failure 1");
    expect(job.history[0]!.stack).toMatch(/\n\s+at /);
    expect(job.history[2]!.stack).toBeNull();
    // the next attempt never starts before its backoff has passed
    expect(job.history[1]!.startedAt).toBeGreaterThanOrEqual(job.history[0]!.finishedAt + 50);
    expect(job.history[2]!.startedAt).toBeGreaterThanOrEqual(job.history[1]!.finishedAt + 50);
  });

  it("keeps a failed attempt scheduled with its next run time, its error message and its stack", async () => {
    const { spool, start, failedAttempts } = await setup();
    spool.define("slow_retry", () => {
      throw new RangeError("out of range");
    }, { backoff: { type: "fixed", baseMs: 60_000, jitter: false } });
    const { id } = await spool.enqueue("slow_retry", null);
    await start();

    const job = await failedAttempts(id, 1);
    expect(job.attempts).toBe(1);
    expect(job.maxAttempts).toBe(3);
    expect(job.finishedAt).toBeNull();
    expect(job.lastError).toBe("out of range");
    expect(job.runAt).toBe(job.history[0]!.finishedAt + 60_000);
    expect(job.history[0]).toMatchObject({ attempt: 1, outcome: "failed", error: "out of range", workerId: "retry-worker" });
    expect(job.history[0]!.stack).toContain("RangeError: out of range");
  });

  it("moves a job that runs out of attempts to dead with its last error and a full history", async () => {
    const { spool, start, reach } = await setup();
    spool.define("always_fails", (_payload, ctx) => {
      throw new TypeError(`bad input on attempt ${ctx.attempt}`);
    }, { maxAttempts: 2, backoff: NO_WAIT });
    spool.define("healthy", () => "fine");
    const { id } = await spool.enqueue("always_fails", { order: 7 });
    const { id: otherId } = await spool.enqueue("healthy", null);
    await start();

    const job = await reach(id, "dead");
    expect(job.attempts).toBe(2);
    expect(job.lastError).toBe("bad input on attempt 2");
    expect(job.finishedAt).toBe(job.history[1]!.finishedAt);
    expect(job.payload).toEqual({ order: 7 });
    expect(job.history).toHaveLength(2);
    expect(job.history.map((a) => a.outcome)).toEqual(["failed", "failed"]);
    expect(job.history[1]!.stack).toContain("TypeError: bad input on attempt 2");
    // a dead job is never picked up again
    const other = await reach(otherId, "completed");
    expect(other.history).toHaveLength(1);
    expect((await spool.getJob(id))!.history).toHaveLength(2);
  });

  it("records a thrown string or object as an error message", async () => {
    const { spool, start, reach } = await setup();
    spool.define("throws_string", () => {
      throw "plain string";
    }, { maxAttempts: 1 });
    spool.define("throws_object", () => {
      throw { reason: "object" };
    }, { maxAttempts: 1 });
    const a = await spool.enqueue("throws_string", null);
    const b = await spool.enqueue("throws_object", null);
    await start();

    expect((await reach(a.id, "dead")).lastError).toBe("plain string");
    expect((await reach(b.id, "dead")).lastError).toBe('non-error thrown: {"reason":"object"}');
  });
});

describe("backoff", () => {
  it("computes exponential, fixed and linear delays, capped at maxMs", () => {
    const error = new Error("x");
    const exponential = { type: "exponential", baseMs: 100, maxMs: 1000, jitter: false } as const;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(exponential, n, error))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const fixed = { type: "fixed", baseMs: 250, jitter: false } as const;
    expect([1, 2, 5].map((n) => backoffDelay(fixed, n, error))).toEqual([250, 250, 250]);
    const linear = { type: "linear", baseMs: 300, maxMs: 1000, jitter: false } as const;
    expect([1, 2, 3, 4].map((n) => backoffDelay(linear, n, error))).toEqual([300, 600, 900, 1000]);
    // the default: exponential from 1 s with full jitter, so the delay is random * the exponential step
    expect(backoffDelay({ type: "exponential" }, 3, error, () => 0.5)).toBe(2000);
    expect(backoffDelay({ type: "exponential" }, 1000, error, () => 1)).toBe(60 * 60 * 1000);
  });

  it("calls a backoff function with the failed attempt number and its error", () => {
    const seen: Array<[number, string]> = [];
    const fn = (attempt: number, error: Error) => {
      seen.push([attempt, error.message]);
      return attempt * 10;
    };
    expect(backoffDelay(fn, 2, new Error("why"))).toBe(20);
    expect(seen).toEqual([[2, "why"]]);
    expect(backoffDelay(() => Number.NaN, 1, new Error("x"))).toBe(0);
    expect(backoffDelay(() => -5, 1, new Error("x"))).toBe(0);
  });

  it("schedules the retry by the type's policy, a job's own policy, or the type's function", async () => {
    const { spool, start, failedAttempts } = await setup();
    const seen: Array<[number, string]> = [];
    spool.define("by_type", () => {
      throw new Error("type policy");
    }, { backoff: { type: "exponential", baseMs: 40_000, jitter: false } });
    spool.define("by_function", () => {
      throw new Error("function policy");
    }, {
      backoff: (attempt, error) => {
        seen.push([attempt, error.message]);
        return 70_000 + attempt;
      },
    });
    const byType = await spool.enqueue("by_type", null);
    const byJob = await spool.enqueue("by_type", null, { backoff: { type: "linear", baseMs: 55_000, jitter: false } });
    const byFunction = await spool.enqueue("by_function", null);
    await start();

    const typed = await failedAttempts(byType.id, 1);
    expect(typed.runAt - typed.history[0]!.finishedAt).toBe(40_000);
    const own = await failedAttempts(byJob.id, 1);
    expect(own.runAt - own.history[0]!.finishedAt).toBe(55_000);
    const fn = await failedAttempts(byFunction.id, 1);
    expect(fn.runAt - fn.history[0]!.finishedAt).toBe(70_001);
    expect(seen).toEqual([[1, "function policy"]]);
  });

  it("uses exponential backoff from 1 s with full jitter when nothing is set", async () => {
    const { spool, start, failedAttempts } = await setup({ random: () => 0.25 });
    spool.define("defaults", () => {
      throw new Error("default policy");
    });
    const { id } = await spool.enqueue("defaults", null);
    await start();

    const job = await failedAttempts(id, 1);
    expect(job.runAt - job.history[0]!.finishedAt).toBe(250);
  });

  it("rejects a backoff function in enqueue options, since a job stores only a policy object, and writes nothing", async () => {
    const { spool } = await setup();
    spool.define("any", () => undefined);
    const attempt = spool.enqueue("any", null, { backoff: (() => 5) as never });
    await expect(attempt).rejects.toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringContaining("backoff functions") });
    await expect(spool.enqueue("any", null, { backoff: { type: "sometimes" } as never })).rejects.toBeInstanceOf(SpoolError);
    expect(() => spool.define("bad", () => undefined, { backoff: { type: "fixed", baseMs: -1 } })).toThrow(/baseMs/);
    expect(await spool.countJobs()).toMatchObject({ pending: 0, scheduled: 0 });
  });

  it("falls back to the default policy when a backoff function throws", async () => {
    const { spool, start, failedAttempts } = await setup({ random: () => 0.5 });
    spool.define("bad_backoff", () => {
      throw new Error("handler failed");
    }, {
      backoff: () => {
        throw new Error("backoff bug");
      },
    });
    const { id } = await spool.enqueue("bad_backoff", null);
    await start();

    const job = await failedAttempts(id, 1);
    expect(job.runAt - job.history[0]!.finishedAt).toBe(500);
    expect(job.lastError).toBe("handler failed");
  });
});

describe("permanent failure", () => {
  it("sends a job that throws PermanentError to dead at once, whatever attempts it has left", async () => {
    const { spool, start, reach } = await setup();
    spool.define("charge", () => {
      throw new PermanentError("card declined");
    }, { maxAttempts: 5, backoff: NO_WAIT });
    const { id } = await spool.enqueue("charge", { cents: 100 });
    await start();

    const job = await reach(id, "dead");
    expect(job.attempts).toBe(1);
    expect(job.maxAttempts).toBe(5);
    expect(job.lastError).toBe("card declined");
    expect(job.history).toHaveLength(1);
    expect(job.history[0]).toMatchObject({ outcome: "failed", error: "card declined" });
    expect(job.history[0]!.stack).toContain("PermanentError: card declined");
  });

  it("recognises a PermanentError from another copy of Spool by its name", async () => {
    const { spool, start, reach } = await setup();
    class PermanentError extends Error {
      override name = "PermanentError";
    }
    spool.define("foreign", () => {
      throw new PermanentError("from a bundled copy");
    }, { maxAttempts: 4 });
    const { id } = await spool.enqueue("foreign", null);
    await start();

    expect((await reach(id, "dead")).attempts).toBe(1);
  });

  it("fails a job at once when the type's isPermanent classifies its error, and retries other errors", async () => {
    const { spool, start, reach, failedAttempts } = await setup();
    const classified: string[] = [];
    spool.define("validate", (payload: { valid: boolean }) => {
      throw new Error(payload.valid ? "network blip" : "invalid address");
    }, {
      maxAttempts: 3,
      backoff: { type: "fixed", baseMs: 60_000, jitter: false },
      isPermanent: (error) => {
        classified.push(error.message);
        return error.message.startsWith("invalid");
      },
    });
    const permanent = await spool.enqueue("validate", { valid: false });
    const transient = await spool.enqueue("validate", { valid: true });
    await start();

    const dead = await reach(permanent.id, "dead");
    expect(dead.attempts).toBe(1);
    expect(dead.lastError).toBe("invalid address");
    const retrying = await failedAttempts(transient.id, 1);
    expect(retrying.lastError).toBe("network blip");
    expect(classified.sort()).toEqual(["invalid address", "network blip"]);
  });

  it("treats the error as retryable when isPermanent itself throws", async () => {
    const { spool, start, failedAttempts } = await setup();
    spool.define("classifier_bug", () => {
      throw new Error("real failure");
    }, {
      backoff: { type: "fixed", baseMs: 60_000, jitter: false },
      isPermanent: () => {
        throw new Error("classifier bug");
      },
    });
    const { id } = await spool.enqueue("classifier_bug", null);
    await start();

    const job = await failedAttempts(id, 1);
    expect(job.lastError).toBe("real failure");
  });
});
