/**
 * The HTTP API as one fetch handler: the route table, the user's extra routes,
 * and one error boundary. Every handler returns a Response; nothing is thrown
 * past the boundary.
 */
import { SpoolError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Spool } from "../spool.ts";
import { apiRoutes } from "./api.ts";
import { errorResponse, spoolErrorResponse } from "./responses.ts";
import { Router } from "./router.ts";

/** A user route from the jobs module: answers a Response, or undefined to pass to the next. */
export type Route = (request: Request, spool: Spool) => Response | undefined | Promise<Response | undefined>;

export interface AppOptions {
  spool: Spool;
  routes?: Route[];
}

export interface App {
  fetch(request: Request): Promise<Response>;
}

export function createApp(options: AppOptions): App {
  const router = new Router(apiRoutes(options.spool));
  const extra = options.routes ?? [];
  const logger: Logger = options.spool.logger;
  return {
    async fetch(request: Request): Promise<Response> {
      try {
        const url = new URL(request.url);
        const match = router.match(request.method, url.pathname);
        if (match.kind === "found") {
          for (const guard of match.route.guards ?? []) {
            const denied = await guard(request);
            if (denied) return denied;
          }
          return await match.route.handler(request, match.params, url);
        }
        for (const route of extra) {
          const response = await route(request, options.spool);
          if (response instanceof Response) return response;
        }
        if (match.kind === "method_not_allowed") {
          return errorResponse(405, "METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${url.pathname}`, {
            allow: match.allowed.join(", "),
          });
        }
        return errorResponse(404, "NOT_FOUND", `no route for ${request.method} ${url.pathname}`);
      } catch (error) {
        if (error instanceof SpoolError) return spoolErrorResponse(error);
        logger.error("http handler failed", { method: request.method, url: request.url, error: (error as Error)?.message });
        return errorResponse(500, "INTERNAL", "internal error; see the worker's log");
      }
    },
  };
}
