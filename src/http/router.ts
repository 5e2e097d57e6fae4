/**
 * A small explicit route table: method + path pattern (`/jobs/:id`) to a
 * handler that always returns a Response. Each route says who may call it;
 * the handler's guards (see handler.ts) allow or deny before it runs.
 */
import type { Access } from "./access.ts";

export type Params = Record<string, string>;

/**
 * Who may call a route:
 * - `public`: anyone, no token (GET /health, the dashboard's own files);
 * - `metrics`: the metrics token when one is set (or an API or read token), else anyone;
 * - `read`: the API token or the read-only token;
 * - `admin`: the API token only.
 * Without an API token configured, `read` and `admin` routes are open to every caller.
 */
export type RouteAccess = "public" | "metrics" | "read" | "admin";

/** What the guards found out about a request, handed to the handler. */
export interface RequestFacts {
  /** What the caller may do; see Access. */
  access: Access;
}

export interface RouteDefinition {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  /** Default: `read` for GET, `admin` for every other method. */
  access?: RouteAccess;
  /** Answer whatever Host the request names (the DNS-rebinding check is skipped). Only for GET /health. */
  anyHost?: boolean;
  /** A request signed with a trigger secret (see trigger.ts) passes instead of the token. Only for POST /drain. */
  signed?: boolean;
  handler: (request: Request, params: Params, url: URL, facts: RequestFacts) => Response | Promise<Response>;
}

interface CompiledRoute extends RouteDefinition {
  segments: string[];
}

export type Match =
  | { kind: "found"; route: RouteDefinition; params: Params }
  | { kind: "method_not_allowed"; allowed: string[] }
  | { kind: "none" };

/** The access a route needs: its own, or `read` for GET and `admin` for the rest. */
export function accessOfRoute(route: RouteDefinition): RouteAccess {
  return route.access ?? (route.method === "GET" ? "read" : "admin");
}

export class Router {
  readonly #routes: CompiledRoute[];

  constructor(routes: RouteDefinition[]) {
    this.#routes = routes.map((r) => ({ ...r, segments: split(r.path) }));
  }

  match(method: string, pathname: string): Match {
    const segments = split(pathname);
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (params === null) continue;
      if (route.method === method || (method === "HEAD" && route.method === "GET")) return { kind: "found", route, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: "method_not_allowed", allowed } : { kind: "none" };
  }
}

function split(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0);
}

function matchSegments(pattern: string[], actual: string[]): Params | null {
  if (pattern.length !== actual.length) return null;
  const params: Params = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const a = actual[i]!;
    if (p.startsWith(":")) {
      try {
        params[p.slice(1)] = decodeURIComponent(a);
      } catch {
        return null;
      }
    } else if (p !== a) return null;
  }
  return params;
}
