/**
 * A small explicit route table: method + path pattern (`/jobs/:id`) to a
 * handler that always returns a Response. Guards run first and may deny.
 */
export type Params = Record<string, string>;

export type Guard = (request: Request) => Response | null | Promise<Response | null>;

export interface RouteDefinition {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  guards?: Guard[];
  handler: (request: Request, params: Params, url: URL) => Response | Promise<Response>;
}

interface CompiledRoute extends RouteDefinition {
  segments: string[];
}

export type Match =
  | { kind: "found"; route: RouteDefinition; params: Params }
  | { kind: "method_not_allowed"; allowed: string[] }
  | { kind: "none" };

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
