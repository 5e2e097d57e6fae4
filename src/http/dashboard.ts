/**
 * The dashboard's routes: `GET /` answers the page, `GET /dashboard/:file` its
 * scripts, styles and icon. The files are embedded in the module graph
 * (src/http/dashboard/assets.ts), so they need no file system and no build
 * step to run. They carry no data and need no token: the page asks for the
 * token when the JSON API first answers 401, and every call it makes carries it.
 */
import { DASHBOARD_ASSETS, type DashboardAsset } from "./dashboard/assets.ts";
import { errorResponse } from "./responses.ts";
import type { RouteDefinition } from "./router.ts";

/**
 * The page may load only what the worker serves and talk only to the worker:
 * no inline script, no external request, no framing by another site.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Answers one asset. Asset URLs carry no version, so every response is
 * revalidated (`no-cache`) against its ETag: a new build is seen at once, and
 * an unchanged file costs a 304 with no body.
 */
function serveAsset(request: Request, asset: DashboardAsset): Response {
  const headers: Record<string, string> = {
    "cache-control": "no-cache",
    etag: asset.etag,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  if (asset.contentType.startsWith("text/html")) {
    headers["content-security-policy"] = CONTENT_SECURITY_POLICY;
    headers["x-frame-options"] = "DENY";
  }
  const matches = (request.headers.get("if-none-match") ?? "")
    .split(",")
    .some((tag) => tag.trim().replace(/^W\//, "") === asset.etag);
  if (matches) return new Response(null, { status: 304, headers });
  return new Response(request.method === "HEAD" ? null : asset.body, {
    status: 200,
    headers: { ...headers, "content-type": asset.contentType },
  });
}

/**
 * The dashboard's route definitions, for the API's route table. `GET /` is
 * the page; `GET /dashboard/:file` answers an embedded file by name, or 404
 * `NOT_FOUND` (names are looked up, never joined into a path).
 */
export function dashboardRoutes(): RouteDefinition[] {
  return [
    {
      method: "GET",
      path: "/",
      access: "public",
      handler: (request) => serveAsset(request, DASHBOARD_ASSETS["index.html"]!),
    },
    {
      method: "GET",
      path: "/dashboard/:file",
      access: "public",
      handler: (request, params) => {
        const name = params.file!;
        const asset = Object.hasOwn(DASHBOARD_ASSETS, name) ? DASHBOARD_ASSETS[name] : undefined;
        if (asset === undefined || name === "index.html") {
          return errorResponse(404, "NOT_FOUND", `the dashboard has no file ${JSON.stringify(name)}`);
        }
        return serveAsset(request, asset);
      },
    },
  ];
}
