/**
 * Workflow routes: start one, list them, read one with its jobs, cancel and
 * retry. Same error shape and codes as the jobs routes; SpoolErrors thrown by
 * the Spool become their status in the app's error boundary.
 */
import type { Spool } from "../spool.ts";
import { WORKFLOW_STATUSES, type WorkflowStatus, isWorkflowStatus } from "../core/workflow-status.ts";
import { BODY_OVERHEAD_BYTES, readJsonObject } from "./body.ts";
import { REQUEST_BODY, readJobRequest } from "./job-request.ts";
import { errorResponse, json } from "./responses.ts";
import type { RouteDefinition } from "./router.ts";

export function workflowRoutes(spool: Spool): RouteDefinition[] {
  const bodyLimit = spool.maxPayloadBytes + BODY_OVERHEAD_BYTES;
  return [
    {
      method: "POST",
      path: "/workflows",
      handler: async (request) => {
        const body = await readJsonObject(request, bodyLimit, spool.maxJsonDepth);
        if (!body.ok) return body.response;
        const job = readJobRequest(body.value, REQUEST_BODY, "the type of the workflow's first job");
        if (job instanceof Response) return job;
        const started = await spool.startWorkflow(job.type, job.payload, job.options);
        return json(started, 201);
      },
    },
    {
      method: "GET",
      path: "/workflows",
      handler: async (_request, _params, url) => {
        const status = url.searchParams.get("status") ?? undefined;
        if (status !== undefined && !isWorkflowStatus(status)) {
          return errorResponse(400, "INVALID_QUERY", `status must be one of ${WORKFLOW_STATUSES.join(", ")}; got ${JSON.stringify(status)}`);
        }
        const limitText = url.searchParams.get("limit");
        const page = await spool.listWorkflows({
          status: status as WorkflowStatus | undefined,
          type: url.searchParams.get("type") ?? undefined,
          limit: limitText === null ? 50 : Number(limitText),
          cursor: url.searchParams.get("cursor") ?? undefined,
        });
        return json(page);
      },
    },
    {
      method: "GET",
      path: "/workflows/:id",
      handler: async (_request, params) => {
        const workflow = await spool.getWorkflow(params.id!);
        return workflow ? json(workflow) : errorResponse(404, "WORKFLOW_NOT_FOUND", `no workflow has id ${JSON.stringify(params.id)}`);
      },
    },
    {
      method: "POST",
      path: "/workflows/:id/cancel",
      handler: async (_request, params) => {
        const { status, jobs } = await spool.cancelWorkflow(params.id!);
        return json({ workflowId: params.id, status, jobs }, status === "cancelled" ? 200 : 202);
      },
    },
    {
      method: "POST",
      path: "/workflows/:id/retry",
      handler: async (_request, params) => {
        const { jobs } = await spool.retryWorkflow(params.id!);
        return json({ workflowId: params.id, status: "running", jobs });
      },
    },
  ];
}
