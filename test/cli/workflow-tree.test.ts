/**
 * The workflow tree `spool workflow ID` draws, from the shape getWorkflow
 * reports.
 */
import { describe, expect, it } from "vitest";
import { type WorkflowView, drawWorkflow } from "../../src/cli/workflow-tree.ts";

const T0 = Date.UTC(2030, 0, 1, 9, 0, 0);

function job(id: string, type: string, status: string, changes: Partial<WorkflowView["jobs"][number]> = {}): WorkflowView["jobs"][number] {
  return { id, type, status, parentId: null, after: [], attempts: 1, result: null, lastError: null, warnings: [], ...changes };
}

const orderWorkflow: WorkflowView = {
  id: "order-A-1",
  status: "running",
  createdAt: T0,
  finishedAt: null,
  counts: { completed: 2, running: 1, blocked: 1, dead: 1, pending: 0 },
  // out of order on purpose: the drawing sorts siblings by id
  jobs: [
    job("4", "sync_inventory", "running", { parentId: "2", attempts: 2 }),
    job("1", "process_order", "completed"),
    job("3", "generate_invoice", "dead", { parentId: "2", attempts: 3, lastError: "PDF service down\n    at render (pdf.ts:10)" }),
    job("2", "send_order_confirmation", "completed", { parentId: "1", warnings: ["slow smtp"] }),
    job("5", "notify_warehouse", "blocked", { parentId: "1", after: ["3", "4"] }),
  ],
};

describe("drawWorkflow", () => {
  it("draws each job under its parent, siblings in id order, with waits, attempts, errors and warnings", () => {
    expect(drawWorkflow(orderWorkflow)).toBe(
      [
        "workflow order-A-1  running  created 2030-01-01 09:00:00Z",
        "2 completed, 1 running, 1 blocked, 1 dead",
        "└─ 1 process_order  completed",
        "   ├─ 2 send_order_confirmation  completed  1 warning",
        "   │  ├─ 3 generate_invoice  dead  3 attempts  error: PDF service down …",
        "   │  └─ 4 sync_inventory  running  2 attempts",
        "   └─ 5 notify_warehouse  blocked  after 3, 4",
        "",
      ].join("\n"),
    );
  });

  it("puts jobs whose parent is outside the workflow at the top, and says when the workflow finished", () => {
    const drawn = drawWorkflow({
      id: "wf",
      status: "completed",
      createdAt: T0,
      finishedAt: T0 + 61_000,
      counts: { completed: 3 },
      jobs: [job("7", "a", "completed", { parentId: "99" }), job("8", "b", "completed", { parentId: "7" }), job("9", "c", "completed")],
    });
    expect(drawn).toBe(
      [
        "workflow wf  completed  created 2030-01-01 09:00:00Z  finished 2030-01-01 09:01:01Z",
        "3 completed",
        "├─ 7 a  completed",
        "│  └─ 8 b  completed",
        "└─ 9 c  completed",
        "",
      ].join("\n"),
    );
  });

  it("draws every job once even when parents form a cycle, and stops indenting a very long chain", () => {
    const cycle = drawWorkflow({ id: "c", status: "running", createdAt: T0, finishedAt: null, counts: {}, jobs: [job("1", "a", "pending", { parentId: "2" }), job("2", "b", "pending", { parentId: "1" })] });
    expect(cycle.split("\n").filter((l) => /─ \d/.test(l))).toHaveLength(2);

    const chain = Array.from({ length: 40 }, (_, i) => job(String(i + 1), "step", "completed", { parentId: i === 0 ? null : String(i) }));
    const lines = drawWorkflow({ id: "long", status: "completed", createdAt: T0, finishedAt: null, counts: {}, jobs: chain }).trimEnd().split("\n").slice(1);
    expect(lines).toHaveLength(40);
    expect(lines[39]).toMatch(/^ {69}└─ \[depth 40\] 40 step {2}completed$/);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(110);
  });
});
