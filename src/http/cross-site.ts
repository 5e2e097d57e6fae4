/**
 * Cross-site protection and CORS. The rule is Go's CrossOriginProtection:
 * a browser marks a request a page on another site sends, through
 * `Sec-Fetch-Site` (every current browser) or, failing that, an `Origin`
 * whose host is not the request's Host. Such a request may not change
 * anything. Requests without either header (curl, the CLI, servers) are not
 * from a browser page and pass.
 */

/** Methods that change nothing; a page on another site may send them. */
export function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}

/** Why a mutation is refused as cross-site, or null when it may go on. */
export function crossSiteReason(request: Request, host: string, trustedOrigins: ReadonlySet<string>): string | null {
  if (isSafeMethod(request.method)) return null;
  const origin = request.headers.get("origin");
  if (origin !== null && trustedOrigins.has(origin.toLowerCase())) return null;
  const site = request.headers.get("sec-fetch-site");
  if (site !== null) {
    if (site === "same-origin" || site === "none") return null;
    return `Sec-Fetch-Site says ${JSON.stringify(site)}: a page on another site may not change anything here`;
  }
  if (origin === null) return null;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = "";
  }
  if (originHost !== "" && originHost === host.toLowerCase()) return null;
  return `Origin ${JSON.stringify(origin)} is not this server (${host}): a page on another site may not change anything here`;
}

/** How long a browser may keep a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/** The CORS headers for a request from a configured origin; none for any other. */
export function corsHeaders(request: Request, allowedOrigins: ReadonlySet<string>): Record<string, string> | null {
  const origin = request.headers.get("origin");
  if (origin === null || !allowedOrigins.has(origin.toLowerCase())) return null;
  return { "access-control-allow-origin": origin, vary: "Origin" };
}

/** The answer to a CORS preflight from a configured origin, or null when the request is not one. */
export function preflightResponse(request: Request, allowedOrigins: ReadonlySet<string>): Response | null {
  if (request.method !== "OPTIONS" || request.headers.get("access-control-request-method") === null) return null;
  const headers = corsHeaders(request, allowedOrigins);
  if (headers === null) return null;
  return new Response(null, {
    status: 204,
    headers: {
      ...headers,
      "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE",
      "access-control-allow-headers": "authorization, content-type",
      "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
    },
  });
}

/** The origin `text` names (`scheme://host[:port]`, lower case), or null when it is not one. */
export function parseOrigin(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  return text.replace(/\/$/, "").toLowerCase() === url.origin ? url.origin : null;
}
