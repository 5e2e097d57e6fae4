/**
 * The transition constructors: each builds the outcome of its edge with its
 * reason, and refuses a job whose status the state table does not allow.
 */
import { describe, expect, it } from "vitest";
import { SpoolError } from "../../src/core/errors.ts";
import type { JobStatus } from "../../src/core/states.ts";
import {
  block,
  cancel,
  complete,
  dead,
  dependencyFailed,
  leaseExpired,
  release,
  retryLater,
  unblock,
} from "../../src/core/transitions.ts";

const running = { id: "7", status: "running" as JobStatus, leaseToken: "tok" };
const failure = { message: "boom", stack: "Error: boom\n    at x", outcome: "failed" as const };

function illegal(fn: () => unknown): void {
  expect(fn).toThrow(SpoolError);
  try {
    fn();
  } catch (error) {
    expect((error as SpoolError).code).toBe("ILLEGAL_TRANSITION");
  }
}

describe("transition constructors", () => {
  it("complete moves a running job to completed with its result, children and warnings", () => {
    const outcome = complete(running, 100, '{"ok":1}', [], ["email down"]);
    expect(outcome).toMatchObject({
      id: "7", token: "tok", finishedAt: 100, reason: "complete", status: "completed", outcome: "completed",
      runAt: null, error: null, result: '{"ok":1}', warnings: ["email down"],
    });
  });

  it("retryLater schedules the next attempt at the given time and keeps the error", () => {
    const outcome = retryLater(running, 100, 250, { ...failure, outcome: "timed_out" });
    expect(outcome).toMatchObject({ reason: "retry", status: "scheduled", runAt: 250, outcome: "timed_out", error: "boom", stack: failure.stack });
  });

  it("dead ends the job with its error and writes nothing it staged", () => {
    const outcome = dead(running, 100, failure, ["w"]);
    expect(outcome).toMatchObject({ reason: "fail", status: "dead", runAt: null, outcome: "failed", error: "boom", warnings: ["w"] });
    expect(outcome.children).toBeUndefined();
  });

  it("release hands a running job back as pending without recording an attempt", () => {
    expect(release(running, 100)).toMatchObject({ reason: "release", status: "pending", outcome: null, error: null });
  });

  it("cancel ends a running job cancelled with the stop error", () => {
    expect(cancel(running, 100, { message: "job 7 was cancelled", stack: null })).toMatchObject({
      reason: "cancel", status: "cancelled", outcome: "failed", error: "job 7 was cancelled",
    });
  });

  it("leaseExpired retries when a time is given, ends dead when none is, and writes only while the lease is still expired", () => {
    expect(leaseExpired(running, 100, 300, "lease expired")).toMatchObject({
      reason: "lease_expired", status: "scheduled", runAt: 300, outcome: "lease_expired", error: "lease expired", leaseExpiredBy: 100,
    });
    expect(leaseExpired(running, 100, null, "lease expired")).toMatchObject({ status: "dead", runAt: null, leaseExpiredBy: 100 });
  });

  it("unblock makes a blocked job pending, or scheduled when its runAt is ahead", () => {
    expect(unblock(100, 100)).toEqual({ reason: "unblock", status: "pending" });
    expect(unblock(500, 100)).toEqual({ reason: "unblock", status: "scheduled" });
  });

  it("dependencyFailed cancels a blocked job with a reason naming the dependency", () => {
    expect(dependencyFailed({ id: "3", type: "charge", status: "dead" })).toEqual({
      reason: "dependency_failed", status: "cancelled", error: "cancelled: its dependency job 3 (charge) ended dead",
    });
  });

  it("block brings a job cancelled by a failed dependency back to blocked", () => {
    expect(block()).toEqual({ reason: "block", status: "blocked" });
  });

  it("throws ILLEGAL_TRANSITION for a job that is not running", () => {
    for (const status of ["blocked", "scheduled", "pending", "completed", "dead", "cancelled"] as JobStatus[]) {
      const job = { ...running, status };
      illegal(() => complete(job, 1));
      illegal(() => retryLater(job, 1, 2, failure));
      illegal(() => dead(job, 1, failure));
      illegal(() => release(job, 1));
      illegal(() => leaseExpired(job, 1, null, "x"));
    }
    illegal(() => cancel({ ...running, status: "completed" }, 1, { message: "x", stack: null }));
  });
});
