/**
 * The operator's numbers: `GET /stats` (JSON, the read token reaches it) and
 * `GET /metrics` (Prometheus text; open like /health unless a metrics token
 * is set, see access.ts).
 */
import type { Spool } from "../spool.ts";
import { json } from "./responses.ts";
import type { RouteDefinition } from "./router.ts";

/** The content type Prometheus expects of the text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function observabilityRoutes(spool: Spool): RouteDefinition[] {
  return [
    {
      method: "GET",
      path: "/stats",
      // counts and workerId stay where earlier callers read them
      handler: async () => json({ ...(await spool.stats()), workerId: spool.workerId }),
    },
    {
      method: "GET",
      path: "/metrics",
      access: "metrics",
      handler: async () => new Response(await spool.metrics(), { headers: { "content-type": METRICS_CONTENT_TYPE } }),
    },
  ];
}
