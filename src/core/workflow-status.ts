/**
 * A workflow's statuses: running while any of its jobs is unfinished, then
 * how it ended (docs/state-machine.md, "Workflow statuses").
 */
export const WORKFLOW_STATUSES = ["running", "completed", "completed_with_errors", "failed", "cancelled"] as const;

export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/** True for one of WORKFLOW_STATUSES. */
export function isWorkflowStatus(value: unknown): value is WorkflowStatus {
  return typeof value === "string" && (WORKFLOW_STATUSES as readonly string[]).includes(value);
}
