/**
 * The built-in routes: health, access, jobs, queues, schedules (stats and
 * metrics are in observability.ts). Validation
 * yields facts; each handler picks the status. Who may call each route is in
 * its `access` (default: read for GET, the API token for the rest).
 */
import { JOB_STATUSES, isJobStatus } from "../core/states.ts";
import type { DrainOptions, Spool } from "../spool.ts";
import { BODY_OVERHEAD_BYTES, readJsonObject } from "./body.ts";
import { REQUEST_BODY, type JobRequest, readJobRequest } from "./job-request.ts";
import { errorResponse, json } from "./responses.ts";
import type { RouteDefinition } from "./router.ts";

/**
 * `POST /jobs` with an array body: every job in one transaction, as
 * `enqueueMany`, answered 201 with `[{ id, deduplicated }]` in input order.
 * A bad item is a 400 naming its index, and nothing is written.
 */
async function enqueueArray(spool: Spool, items: unknown[]): Promise<Response> {
  const batch: JobRequest[] = [];
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      return errorResponse(400, "INVALID_BODY", `item ${index} must be a JSON object { type, payload, ...options }`);
    }
    const job = readJobRequest(item as Record<string, unknown>, `item ${index}`, JOB_TYPE_ROLE);
    if (job instanceof Response) return job;
    batch.push(job);
  }
  return json(await spool.enqueueMany(batch), 201);
}

const JOB_TYPE_ROLE = "the job type to enqueue";

/** What `POST /drain` drains when its body does not say: the handler's `drain` option. */
export type DrainDefaults = Omit<DrainOptions, "signal">;

export function apiRoutes(spool: Spool, drainDefaults: DrainDefaults): RouteDefinition[] {
  const bodyLimit = spool.maxPayloadBytes + BODY_OVERHEAD_BYTES;
  return [
    {
      method: "GET",
      path: "/health",
      access: "public",
      anyHost: true,
      handler: async () => {
        const health = await spool.health();
        return json(health, health.status === "ok" ? 200 : 503);
      },
    },
    {
      // what the caller's token allows, so a page can hide what it may not do
      method: "GET",
      path: "/access",
      handler: (_request, _params, _url, facts) => json({ access: facts.access }),
    },
    {
      method: "POST",
      path: "/jobs",
      handler: async (request) => {
        const body = await readJsonObject(request, bodyLimit, spool.maxJsonDepth, true);
        if (!body.ok) return body.response;
        if (Array.isArray(body.value)) return enqueueArray(spool, body.value);
        const job = readJobRequest(body.value, REQUEST_BODY, JOB_TYPE_ROLE);
        if (job instanceof Response) return job;
        return json(await spool.enqueue(job.type, job.payload, job.options), 201);
      },
    },
    {
      method: "GET",
      path: "/jobs",
      handler: async (_request, _params, url) => {
        const status = url.searchParams.get("status") ?? "dead";
        if (!isJobStatus(status)) {
          return errorResponse(400, "INVALID_QUERY", `status must be one of ${JOB_STATUSES.join(", ")}; got ${JSON.stringify(status)}`);
        }
        const limitText = url.searchParams.get("limit");
        const limit = limitText === null ? 50 : Number(limitText);
        const page = await spool.listJobs({
          status,
          type: url.searchParams.get("type") ?? undefined,
          queue: url.searchParams.get("queue") ?? undefined,
          workflowId: url.searchParams.get("workflowId") ?? undefined,
          q: url.searchParams.get("q") ?? undefined,
          limit,
          cursor: url.searchParams.get("cursor") ?? undefined,
        });
        return json(page);
      },
    },
    {
      method: "GET",
      path: "/jobs/:id",
      handler: async (_request, params) => {
        const job = await spool.getJob(params.id!);
        return job ? json(job) : errorResponse(404, "JOB_NOT_FOUND", `no job has id ${JSON.stringify(params.id)}`);
      },
    },
    {
      method: "POST",
      path: "/jobs/:id/retry",
      handler: async (_request, params) => {
        await spool.retry(params.id!);
        return json({ id: params.id, status: "pending" });
      },
    },
    {
      method: "POST",
      path: "/jobs/:id/cancel",
      handler: async (_request, params) => {
        const status = await spool.cancel(params.id!);
        return json({ id: params.id, status }, status === "cancelled" ? 200 : 202);
      },
    },
    {
      method: "POST",
      path: "/queues/:name/pause",
      handler: async (_request, params) => {
        await spool.pauseQueue(params.name!);
        return json({ queue: params.name, paused: true });
      },
    },
    {
      method: "POST",
      path: "/queues/:name/resume",
      handler: async (_request, params) => {
        await spool.resumeQueue(params.name!);
        return json({ queue: params.name, paused: false });
      },
    },
    {
      method: "GET",
      path: "/schedules",
      handler: async () => json({ schedules: await spool.listSchedules() }),
    },
    {
      method: "POST",
      path: "/schedules/:name/pause",
      handler: async (_request, params) => {
        await spool.pauseSchedule(params.name!);
        return json({ schedule: params.name, paused: true });
      },
    },
    {
      method: "POST",
      path: "/schedules/:name/resume",
      handler: async (_request, params) => {
        await spool.resumeSchedule(params.name!);
        return json({ schedule: params.name, paused: false });
      },
    },
    {
      // one bounded pass of the whole worker; a signed trigger may call it instead of the token
      method: "POST",
      path: "/drain",
      signed: true,
      handler: async (request) => {
        const text = await request.text();
        let body: Record<string, unknown> = {};
        if (text.trim() !== "") {
          const read = await readJsonObject(new Request(request.url, { method: "POST", body: text }), bodyLimit, spool.maxJsonDepth);
          if (!read.ok) return read.response;
          body = read.value;
        }
        const unknown = Object.keys(body).filter((key) => key !== "budgetMs" && key !== "maxJobs");
        if (unknown.length > 0) {
          return errorResponse(400, "INVALID_BODY", `POST /drain takes only budgetMs and maxJobs, got ${unknown.map((k) => JSON.stringify(k)).join(", ")}`);
        }
        const summary = await spool.drain({
          ...drainDefaults,
          ...(body.budgetMs !== undefined ? { budgetMs: body.budgetMs as number } : {}),
          ...(body.maxJobs !== undefined ? { maxJobs: body.maxJobs as number } : {}),
        });
        return json(summary);
      },
    },
  ];
}
