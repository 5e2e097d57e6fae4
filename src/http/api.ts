/**
 * The built-in routes: health, jobs, queues, schedules. Validation yields facts; each
 * handler picks the status.
 */
import { SpoolError } from "../core/errors.ts";
import { jsonTextDepth } from "../core/payload.ts";
import { isJobStatus } from "../core/states.ts";
import type { Spool } from "../spool.ts";
import { errorResponse, json, spoolErrorResponse } from "./responses.ts";
import type { RouteDefinition } from "./router.ts";

type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

/** Reads a JSON object body, or says in a 400/413 what is wrong with it. */
async function readJsonObject(request: Request, maxBytes: number, maxDepth: number): Promise<BodyResult> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    return { ok: false, response: errorResponse(413, "BODY_TOO_LARGE", `request body is ${declared} bytes, over the limit of ${maxBytes}`) };
  }
  const text = await request.text();
  if (text.length > maxBytes) {
    return { ok: false, response: errorResponse(413, "BODY_TOO_LARGE", `request body is over the limit of ${maxBytes} bytes`) };
  }
  if (text.trim() === "") return { ok: false, response: errorResponse(400, "INVALID_BODY", "request body is empty; send a JSON object") };
  const depthError = bodyDepthError(text, maxDepth);
  if (depthError) return { ok: false, response: spoolErrorResponse(depthError) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, response: errorResponse(400, "INVALID_JSON", `request body is not valid JSON: ${(error as Error).message}`) };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, response: errorResponse(400, "INVALID_BODY", "request body must be a JSON object") };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * Measured before JSON.parse, whose recursion a deep enough body would
 * exhaust on some runtimes. The body wraps the payload in one object, so it
 * may nest one level more than a payload.
 */
function bodyDepthError(text: string, maxPayloadDepth: number): SpoolError | null {
  const limit = maxPayloadDepth + 1;
  if (jsonTextDepth(text, limit) <= limit) return null;
  return new SpoolError(
    "INVALID_PAYLOAD",
    `request body nests arrays and objects more than ${limit} levels deep; a payload may nest at most ${maxPayloadDepth} levels`,
  );
}

export function apiRoutes(spool: Spool): RouteDefinition[] {
  const bodyLimit = spool.maxPayloadBytes + 64 * 1024;
  return [
    {
      method: "GET",
      path: "/health",
      handler: async () => {
        const health = await spool.health();
        return json(health, health.status === "ok" ? 200 : 503);
      },
    },
    {
      method: "POST",
      path: "/jobs",
      handler: async (request) => {
        const body = await readJsonObject(request, bodyLimit, spool.maxJsonDepth);
        if (!body.ok) return body.response;
        const { type, payload, ...options } = body.value;
        if (type === undefined) return errorResponse(400, "INVALID_BODY", 'request body needs "type", the job type to enqueue');
        if (typeof type !== "string") return errorResponse(400, "INVALID_BODY", `"type" must be a string, got ${JSON.stringify(type)}`);
        const result = await spool.enqueue(type, payload === undefined ? null : payload, options);
        return json(result, 201);
      },
    },
    {
      method: "GET",
      path: "/jobs",
      handler: async (_request, _params, url) => {
        const status = url.searchParams.get("status") ?? "dead";
        if (!isJobStatus(status)) {
          return errorResponse(400, "INVALID_QUERY", `status must be one of scheduled, pending, running, completed, dead, cancelled; got ${JSON.stringify(status)}`);
        }
        const limitText = url.searchParams.get("limit");
        const limit = limitText === null ? 50 : Number(limitText);
        const page = await spool.listJobs({
          status,
          type: url.searchParams.get("type") ?? undefined,
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
      method: "GET",
      path: "/stats",
      handler: async () => json({ counts: await spool.countJobs(), workerId: spool.workerId }),
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
  ];
}
