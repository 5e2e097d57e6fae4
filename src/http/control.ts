/**
 * The operator's control routes beside the basic job routes: replaying the
 * dead-letter queue in bulk, purging finished jobs, and the queues' summary. Validation yields facts; each handler picks the status.
 */
import type { Spool } from "../spool.ts";
import { BODY_OVERHEAD_BYTES, readJsonObject } from "./body.ts";
import { errorResponse, json } from "./responses.ts";
import type { RouteDefinition } from "./router.ts";

/** Names the first field of `body` that is not in `known`, as a 400, or null when all are known. */
function unknownField(body: Record<string, unknown>, known: string[]): Response | null {
  const field = Object.keys(body).find((key) => !known.includes(key));
  if (field === undefined) return null;
  return errorResponse(400, "INVALID_BODY", `unknown field ${JSON.stringify(field)}; expected ${known.join(", ")}`);
}

export function controlRoutes(spool: Spool): RouteDefinition[] {
  // these bodies are a few small fields: the overhead allowance alone is room enough
  const bodyLimit = BODY_OVERHEAD_BYTES;
  return [
    {
      method: "POST",
      path: "/jobs/retry-dead",
      handler: async (request) => {
        const body = await readJsonObject(request, bodyLimit, spool.maxJsonDepth);
        if (!body.ok) return body.response;
        const unknown = unknownField(body.value, ["type", "queue"]);
        if (unknown) return unknown;
        const { type, queue } = body.value as { type?: string; queue?: string };
        return json({ retried: await spool.retryDead({ type, queue }) });
      },
    },
    {
      method: "POST",
      path: "/jobs/purge",
      handler: async (request) => {
        const body = await readJsonObject(request, bodyLimit, spool.maxJsonDepth);
        if (!body.ok) return body.response;
        const unknown = unknownField(body.value, ["status", "olderThanMs", "type"]);
        if (unknown) return unknown;
        const { status, olderThanMs, type } = body.value as { status?: "completed" | "dead" | "cancelled"; olderThanMs?: number; type?: string };
        if (status === undefined) return errorResponse(400, "INVALID_BODY", 'request body needs "status": completed, dead or cancelled');
        return json({ purged: await spool.purge({ status, olderThanMs, type }) });
      },
    },
    {
      method: "GET",
      path: "/queues",
      handler: async () => json({ queues: await spool.listQueues() }),
    },
  ];
}
