/**
 * The state table: the edges it allows, and the ones it refuses.
 */
import { describe, expect, it } from "vitest";
import { JOB_STATUSES, assertTransition, canTransition, isJobStatus } from "../../src/core/states.ts";

describe("job states", () => {
  it("knows blocked among the statuses", () => {
    expect(JOB_STATUSES).toContain("blocked");
    expect(isJobStatus("blocked")).toBe(true);
    expect(isJobStatus("waiting")).toBe(false);
  });

  it("lets a blocked job be released, cancelled by a failed dependency or cancelled by an operator, and nothing else", () => {
    expect(canTransition("blocked", "pending", "unblock")).toBe(true);
    expect(canTransition("blocked", "scheduled", "unblock")).toBe(true);
    expect(canTransition("blocked", "cancelled", "dependency_failed")).toBe(true);
    expect(canTransition("blocked", "cancelled", "cancel")).toBe(true);
    expect(canTransition("blocked", "running", "claim")).toBe(false);
    expect(canTransition("blocked", "completed", "complete")).toBe(false);
  });

  it("throws for an edge the table does not have", () => {
    expect(() => assertTransition("completed", "pending", "replay")).toThrow(/cannot go from completed to pending by replay/);
    expect(() => assertTransition("dead", "pending", "replay")).not.toThrow();
    expect(() => assertTransition("pending", "blocked", "block")).toThrow();
  });
});
