/**
 * The HTTP API as one fetch handler: `createHandler(spool, options)` gives
 * `{ fetch }`, which any server (the worker, `serve`, Bun's or Deno's own serve,
 * an edge platform) can call. In order, for every request: the Host check
 * (403), the cross-site check on mutations (403), the token (401, or 403 for
 * the read-only token on a mutation), the body's declared size (413), its
 * content type (415), then the route, whose handler answers the rest (400,
 * 404, ...). One error boundary turns what a handler throws into a JSON error.
 * `POST /drain` may carry a trigger signature instead of the token (see
 * trigger.ts), and `scheduled` drains on a platform's cron trigger.
 */
import { SpoolError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { DEFAULT_DRAIN_BUDGET_MS } from "../core/defaults.ts";
import { checkDrainOptions } from "../core/drain-options.ts";
import type { DrainSummary, Spool } from "../spool.ts";
import { type Tokens, type Verdict, TokenGuard, tokenProblem } from "./access.ts";
import { type DrainDefaults, apiRoutes } from "./api.ts";
import { controlRoutes } from "./control.ts";
import { dashboardRoutes } from "./dashboard.ts";
import { workflowRoutes } from "./workflows.ts";
import { observabilityRoutes } from "./observability.ts";
import { type BodyRefusal, type BoundedRequest, BODY_OVERHEAD_BYTES, bodyTooLarge, boundBody, declaredSizeRefusal } from "./body.ts";
import { corsHeaders, crossSiteReason, isSafeMethod, parseOrigin, preflightResponse } from "./cross-site.ts";
import { type HostRules, hostCheck, isHostEntry } from "./host.ts";
import { errorResponse, spoolErrorResponse } from "./responses.ts";
import { type RouteDefinition, Router, accessOfRoute } from "./router.ts";
import { MIN_TRIGGER_SECRET_LENGTH, SIGNATURE_HEADER, TriggerSignatures } from "./trigger.ts";

/**
 * A route of your own (a jobs module's `routes`): answers a Response, or
 * undefined to pass the request on. It sits behind the same guards as the
 * built-in routes: the token (read for GET, the API token for the rest),
 * the Host and cross-site checks and the body checks. Wrap it in
 * `publicRoute` to let callers without a token reach it.
 */
export type Route = (request: Request, spool: Spool) => Response | undefined | Promise<Response | undefined>;

const PUBLIC = Symbol.for("spool.publicRoute");

/**
 * Marks a route as reachable without a token (a webhook, a public form, a
 * status page). The Host, cross-site and body checks still apply. Public
 * routes are tried before the token is checked; a request none of them
 * answers then needs the token as usual.
 */
export function publicRoute(route: Route): Route {
  if (typeof route !== "function") throw new SpoolError("INVALID_OPTIONS", `publicRoute needs a route function, got ${typeof route}`);
  const wrapped: Route = (request, spool) => route(request, spool);
  Object.defineProperty(wrapped, PUBLIC, { value: true });
  return wrapped;
}

function isPublic(route: Route): boolean {
  return (route as unknown as Record<symbol, unknown>)[PUBLIC] === true;
}

export interface HandlerOptions extends Tokens, HostRules {
  /** Your own routes, tried after the built-in ones. */
  routes?: Route[];
  /** Origins (`https://app.example`) whose pages may call the API: they get CORS headers and pass the cross-site check. Default none. */
  corsOrigins?: readonly string[];
  /** Largest request body, in bytes. Default the Spool's `maxPayloadBytes` (1 MiB) + 64 KiB, room for the options around a payload. */
  maxBodyBytes?: number;
  /** Where refused requests and handler failures are logged (warn, error). Default: the Spool's logger. */
  logger?: Logger;
  /**
   * A secret (16 characters or more) with which an outside scheduler signs
   * `POST /drain` instead of sending the token (SPOOL_TRIGGER_SECRET). See
   * the README for the signature scheme. Default none: no signature is accepted.
   */
  triggerSecret?: string;
  /**
   * Several trigger secrets, any of which is accepted: the current one and
   * the next while rotating (SPOOL_TRIGGER_SECRET_NEXT). Joined with `triggerSecret`.
   */
  triggerSecrets?: readonly string[];
  /**
   * What `scheduled` drains, and `POST /drain` when its body does not say:
   * `budgetMs` (default 25 000, which fits the common 30 s limit of a cron
   * invocation), `maxJobs` (no cap), `queues` (all), `concurrency` (10).
   */
  drain?: Partial<DrainDefaults>;
}

/** What a platform hands a scheduled invocation to keep it alive until work ends (Cloudflare's ExecutionContext). */
export interface WaitUntilContext {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * A fetch handler (Request in, Response out; it never throws) and a cron
 * trigger entry: the shape of a Cloudflare Worker's default export. Deno's
 * and Bun's own serve functions take `handler.fetch` as it is.
 */
export interface Handler {
  fetch(request: Request): Promise<Response>;
  /**
   * Drains once with the `drain` option (see `Spool.drain`) and resolves to
   * the summary when done. Any argument with a `waitUntil` method (the
   * platform's context: Cloudflare passes `(controller, env, ctx)`) is handed
   * the drain's promise. Rejects when the drain does (the database failed).
   */
  scheduled(event?: unknown, ...context: unknown[]): Promise<DrainSummary>;
}

/**
 * The HTTP API and `routes` as one fetch handler. Without `apiToken`
 * every route is open: serve it on loopback only (`serve` and the worker
 * refuse anything else). Pass `hostname` and `port` (the server's bind
 * address) so the Host check knows which names to answer; without them, or
 * bound to every interface, any Host is answered unless `allowedHosts` names
 * them. Throws INVALID_OPTIONS naming a bad option.
 */
export function createHandler(spool: Spool, options: HandlerOptions = {}): Handler {
  checkHandlerOptions(options);
  const logger: Logger = options.logger ?? spool.logger;
  const maxBodyBytes = options.maxBodyBytes ?? spool.maxPayloadBytes + BODY_OVERHEAD_BYTES;
  const drainDefaults: DrainDefaults = { budgetMs: DEFAULT_DRAIN_BUDGET_MS, ...options.drain };
  const router = new Router([...apiRoutes(spool, drainDefaults), ...controlRoutes(spool), ...workflowRoutes(spool), ...observabilityRoutes(spool), ...dashboardRoutes()]);
  const routes = options.routes ?? [];
  const publicRoutes = routes.filter(isPublic);
  const tokens = new TokenGuard(options);
  const answersHost = hostCheck(options);
  const corsOrigins = new Set((options.corsOrigins ?? []).map((o) => parseOrigin(o)!));
  const secrets = [...(options.triggerSecret !== undefined ? [options.triggerSecret] : []), ...(options.triggerSecrets ?? [])];
  const signatures = secrets.length > 0 ? new TriggerSignatures(secrets) : null;

  const refuse = (request: Request, url: URL, status: number, code: string, reason: string): Response => {
    logger.warn("http request refused", { status, code, method: request.method, path: url.pathname, reason });
    return errorResponse(status, code, reason, status === 401 ? { "www-authenticate": 'Bearer realm="spool"' } : undefined);
  };
  const deny = (request: Request, url: URL, verdict: Extract<Verdict, { allowed: false }>) =>
    refuse(request, url, verdict.status, verdict.code, verdict.reason);
  const bodyGuard = async (request: Request): Promise<BoundedRequest | BodyRefusal> =>
    declaredSizeRefusal(request, maxBodyBytes) ?? (await boundBody(request, maxBodyBytes));

  async function answer(request: Request, url: URL, setBody: (b: BoundedRequest) => void): Promise<Response> {
    const match = router.match(request.method, url.pathname);
    const route: RouteDefinition | null = match.kind === "found" ? match.route : null;
    const host = request.headers.get("host") ?? url.host;
    if (!route?.anyHost && !answersHost(host)) {
      return refuse(request, url, 403, "FORBIDDEN_HOST", `Host ${JSON.stringify(host)} is not a name this server answers to (set SPOOL_ALLOWED_HOSTS to add one)`);
    }
    const crossSite = crossSiteReason(request, host, corsOrigins);
    if (crossSite !== null) return refuse(request, url, 403, "FORBIDDEN_ORIGIN", crossSite);
    const preflight = preflightResponse(request, corsOrigins);
    if (preflight !== null) return preflight;

    if (match.kind === "found" && match.route.signed && signatures !== null && request.headers.has(SIGNATURE_HEADER)) {
      // a request that presents a signature is judged by it, whatever token it also sends
      const body = await bodyGuard(request);
      if ("status" in body) return refuse(request, url, body.status, body.code, body.message);
      setBody(body);
      const bytes = new Uint8Array(await body.request.arrayBuffer());
      const refusal = await signatures.verify(request.headers.get(SIGNATURE_HEADER)!, bytes, spool.clock.now());
      if (refusal !== null) return refuse(request, url, 401, refusal.code, refusal.reason);
      const signed = new Request(body.request.url, { method: request.method, headers: request.headers, body: bytes.length > 0 ? bytes : null });
      return await match.route.handler(signed, match.params, url, { access: "admin" });
    }

    if (match.kind === "found") {
      const verdict = await tokens.check(request, accessOfRoute(match.route));
      if (!verdict.allowed) return deny(request, url, verdict);
      const body = await bodyGuard(request);
      if ("status" in body) return refuse(request, url, body.status, body.code, body.message);
      setBody(body);
      return await match.route.handler(body.request, match.params, url, { access: verdict.access });
    }

    // Your routes: a caller the token guard turns away may still reach the public ones.
    const verdict = await tokens.check(request, isSafeMethod(request.method) ? "read" : "admin");
    if (!verdict.allowed && publicRoutes.length === 0) return deny(request, url, verdict);
    const body = await bodyGuard(request);
    if ("status" in body) return refuse(request, url, body.status, body.code, body.message);
    setBody(body);
    for (const route of verdict.allowed ? routes : publicRoutes) {
      const response = await route(body.request, spool);
      if (response instanceof Response) return response;
    }
    if (!verdict.allowed) return deny(request, url, verdict);
    if (match.kind === "method_not_allowed") {
      return errorResponse(405, "METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${url.pathname}`, { allow: match.allowed.join(", ") });
    }
    return errorResponse(404, "NOT_FOUND", `no route for ${request.method} ${url.pathname}`);
  }

  return {
    async fetch(request: Request): Promise<Response> {
      let body: BoundedRequest | null = null;
      let response: Response;
      try {
        const url = new URL(request.url);
        response = await answer(request, url, (b) => (body = b));
      } catch (error) {
        // a read that stopped at the limit surfaces as whatever error the runtime wraps it in
        if ((body as BoundedRequest | null)?.exceeded()) response = bodyTooLarge(maxBodyBytes);
        else if (error instanceof SpoolError) response = spoolErrorResponse(error);
        else {
          logger.error("http handler failed", { method: request.method, path: pathOf(request), error: (error as Error)?.message });
          response = errorResponse(500, "INTERNAL", "internal error; see the worker's log");
        }
      }
      return withCors(request, response, corsOrigins);
    },

    scheduled(_event?: unknown, ...context: unknown[]): Promise<DrainSummary> {
      const drained = spool.drain(drainDefaults);
      const platform = context.find(
        (candidate): candidate is WaitUntilContext => typeof (candidate as WaitUntilContext | null)?.waitUntil === "function",
      );
      platform?.waitUntil(drained);
      drained.catch((error: unknown) => logger.error("scheduled drain failed", { error: (error as Error)?.message }));
      return drained;
    },
  };
}

function pathOf(request: Request): string {
  try {
    return new URL(request.url).pathname;
  } catch {
    return "";
  }
}

function withCors(request: Request, response: Response, corsOrigins: ReadonlySet<string>): Response {
  if (corsOrigins.size === 0) return response;
  const headers = corsHeaders(request, corsOrigins);
  if (headers === null || response.headers.has("access-control-allow-origin")) return response;
  // a route may answer with a fetched Response, whose headers cannot change
  const copy = new Response(response.body, response);
  for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
  return copy;
}

function bad(message: string): never {
  throw new SpoolError("INVALID_OPTIONS", message);
}

/** Throws INVALID_OPTIONS naming the first bad handler option. */
export function checkHandlerOptions(options: HandlerOptions): void {
  if (typeof options !== "object" || options === null) bad(`handler options must be an object, got ${JSON.stringify(options)}`);
  for (const name of ["apiToken", "readToken", "metricsToken"] as const) {
    const token = options[name];
    if (token === undefined) continue;
    if (typeof token !== "string") bad(`${name} must be a string, got ${typeof token}`);
    const problem = tokenProblem(token);
    if (problem !== null) bad(`${name} is unusable: ${problem}`);
  }
  if (options.readToken !== undefined && options.apiToken === undefined) bad("readToken needs apiToken: without an API token every route is open anyway");
  if (options.readToken !== undefined && options.readToken === options.apiToken) bad("readToken must differ from apiToken");
  if (options.routes !== undefined && (!Array.isArray(options.routes) || options.routes.some((r) => typeof r !== "function"))) {
    bad("routes must be an array of functions (request, spool) => Response | undefined");
  }
  if (options.hostname !== undefined && (typeof options.hostname !== "string" || !isHostEntry(options.hostname.replace(/^([0-9a-f:]*:[0-9a-f:]*)$/i, "[$1]")))) {
    bad(`hostname must be a host name or IP address, got ${JSON.stringify(options.hostname)}`);
  }
  if (options.port !== undefined && !(Number.isSafeInteger(options.port) && options.port >= 0 && options.port <= 65535)) {
    bad(`port must be an integer from 0 to 65535, got ${JSON.stringify(options.port)}`);
  }
  if (options.allowedHosts !== undefined) {
    if (!Array.isArray(options.allowedHosts)) bad(`allowedHosts must be an array of host names, got ${JSON.stringify(options.allowedHosts)}`);
    for (const host of options.allowedHosts) {
      if (typeof host !== "string" || !isHostEntry(host)) bad(`allowedHosts: ${JSON.stringify(host)} is not a host name, IP address or name:port`);
    }
  }
  if (options.corsOrigins !== undefined) {
    if (!Array.isArray(options.corsOrigins)) bad(`corsOrigins must be an array of origins, got ${JSON.stringify(options.corsOrigins)}`);
    for (const origin of options.corsOrigins) {
      if (typeof origin !== "string" || parseOrigin(origin) === null) bad(`corsOrigins: ${JSON.stringify(origin)} is not an origin like https://app.example`);
    }
  }
  if (options.maxBodyBytes !== undefined && !(Number.isSafeInteger(options.maxBodyBytes) && options.maxBodyBytes > 0)) {
    bad(`maxBodyBytes must be a positive integer, got ${JSON.stringify(options.maxBodyBytes)}`);
  }
  if (options.triggerSecrets !== undefined && !Array.isArray(options.triggerSecrets)) {
    bad(`triggerSecrets must be an array of strings, got ${typeof options.triggerSecrets}`);
  }
  const secrets = [["triggerSecret", options.triggerSecret] as const, ...(options.triggerSecrets ?? []).map((s, i) => [`triggerSecrets[${i}]`, s] as const)];
  for (const [name, secret] of secrets) {
    if (secret === undefined) continue;
    // the value is a secret: messages name only the option
    if (typeof secret !== "string") bad(`${name} must be a string, got ${typeof secret}`);
    if (secret.length < MIN_TRIGGER_SECRET_LENGTH) bad(`${name} is too short: use ${MIN_TRIGGER_SECRET_LENGTH} characters or more (e.g. openssl rand -hex 32)`);
  }
  if (options.drain !== undefined) {
    if (typeof options.drain !== "object" || options.drain === null) bad(`drain must be an object, got ${JSON.stringify(options.drain)}`);
    const known = new Set(["budgetMs", "maxJobs", "queues", "concurrency"]);
    const unknown = Object.keys(options.drain).filter((key) => !known.has(key));
    if (unknown.length > 0) bad(`drain takes budgetMs, maxJobs, queues and concurrency, got ${unknown.join(", ")}`);
    checkDrainOptions({ budgetMs: DEFAULT_DRAIN_BUDGET_MS, ...options.drain });
  }
}
