/**
 * Test support for workflows: a Spool on a fresh file, a worker, and waits on
 * a workflow's status.
 */
import type { Spool, SpoolOptions } from "../../src/spool.ts";
import type { Workflow, WorkflowStatus } from "../../src/store/workflows.ts";
import type { Job } from "../../src/core/job.ts";
import type { WorkerDefinition } from "../../src/define-worker.ts";
import { openSpool, waitFor } from "../support/system.ts";

export async function workflowSystem(cleanups: Array<() => Promise<void>>, options: Partial<SpoolOptions> = {}) {
  const { spool, url, cleanup } = await openSpool({ workerId: "workflow-worker", ...options });
  cleanups.push(cleanup);
  const start = () => spool.start({ http: false, minPollMs: 5, maxPollMs: 20 });
  /** Resolves with the workflow once it reaches `status`. */
  const settled = (id: string, status: WorkflowStatus, timeoutMs?: number) =>
    waitFor(`workflow ${id} to be ${status}`, async () => {
      const workflow = await spool.getWorkflow(id);
      return workflow?.status === status ? workflow : null;
    }, timeoutMs);
  const reach = (id: string, status: Job["status"]) =>
    waitFor(`job ${id} to be ${status}`, async () => {
      const job = await spool.getJob(id);
      return job?.status === status ? job : null;
    });
  return { spool, url, start, settled, reach };
}

/** Defines every job of a jobs module on `spool`. */
export function defineAll(spool: Spool, definition: WorkerDefinition): void {
  for (const [type, { handler, ...options }] of Object.entries(definition.jobs)) spool.define(type, handler, options);
}

/** The workflow's jobs by type (the first of each type). */
export function byType(workflow: Workflow): Record<string, Workflow["jobs"][number]> {
  const out: Record<string, Workflow["jobs"][number]> = {};
  for (const job of workflow.jobs) out[job.type] ??= job;
  return out;
}
