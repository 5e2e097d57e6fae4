/**
 * Bearer tokens: who the caller is (admin, read-only, or nobody) and whether
 * that reaches a route. Tokens are compared by their SHA-256 digests, byte by
 * byte without an early exit, so the time taken says nothing about how much
 * of a guess was right, nor how long the token is.
 */
import type { RouteAccess } from "./router.ts";

/**
 * What a caller may do: "admin" (it sent the API token), "read" (the read-only
 * token), "open" (no API token is configured: everyone may do everything), or
 * "none" (a token is configured and the caller sent none that counts; it
 * reaches public routes only).
 */
export type Access = "admin" | "read" | "open" | "none";

export interface Tokens {
  /** Every route but public ones needs it (SPOOL_API_TOKEN). */
  apiToken?: string;
  /** May use every GET route, gets 403 on every mutation (SPOOL_API_READ_TOKEN). */
  readToken?: string;
  /** When set, `metrics` routes need it, or the API or read token (SPOOL_METRICS_TOKEN). */
  metricsToken?: string;
}

/** The guard's answer: allowed with the caller's access, or a denial with its status, code and reason. */
export type Verdict =
  | { allowed: true; access: Access }
  | { allowed: false; status: 401 | 403; code: "UNAUTHORIZED" | "READ_ONLY_TOKEN"; reason: string };

type Presented = "api" | "read" | "metrics" | "wrong" | "none";

export class TokenGuard {
  readonly #digests: Promise<Array<[Exclude<Presented, "wrong" | "none">, Uint8Array]>>;
  readonly #hasApiToken: boolean;
  readonly #hasMetricsToken: boolean;

  constructor(tokens: Tokens) {
    this.#hasApiToken = tokens.apiToken !== undefined;
    this.#hasMetricsToken = tokens.metricsToken !== undefined;
    const named = [
      ["api", tokens.apiToken],
      ["read", tokens.readToken],
      ["metrics", tokens.metricsToken],
    ] as const;
    this.#digests = Promise.all(
      named.filter(([, token]) => token !== undefined).map(async ([name, token]) => [name, await digest(token!)] as [typeof name, Uint8Array]),
    );
  }

  /** Whether the request may call a route that needs `needs`, and as whom. */
  async check(request: Request, needs: RouteAccess): Promise<Verdict> {
    const presented = await this.#presented(request);
    const access: Access = !this.#hasApiToken ? "open" : presented === "api" ? "admin" : presented === "read" ? "read" : "none";
    switch (needs) {
      case "public":
        return { allowed: true, access };
      case "metrics":
        if (!this.#hasMetricsToken || presented === "metrics" || presented === "api" || presented === "read") return { allowed: true, access };
        return denied(presented, "the metrics token");
      case "read":
        if (access !== "none") return { allowed: true, access };
        return denied(presented, "the API token or the read-only token");
      case "admin":
        if (access === "admin" || access === "open") return { allowed: true, access };
        if (access === "read") {
          return { allowed: false, status: 403, code: "READ_ONLY_TOKEN", reason: "the read-only token cannot change anything; use the API token" };
        }
        return denied(presented, "the API token");
    }
  }

  async #presented(request: Request): Promise<Presented> {
    const header = request.headers.get("authorization");
    if (header === null) return "none";
    const match = /^bearer +(\S+) *$/i.exec(header);
    if (!match) return "wrong";
    const given = await digest(match[1]!);
    let found: Presented = "wrong";
    // every configured token is compared in full, whichever matches
    for (const [name, expected] of await this.#digests) {
      if (sameBytes(given, expected) && found === "wrong") found = name;
    }
    return found;
  }
}

function denied(presented: Presented, needed: string): Verdict {
  const reason =
    presented === "none"
      ? `this route needs Authorization: Bearer with ${needed}`
      : presented === "wrong"
        ? `the bearer token is not ${needed}`
        : `a ${presented} token does not reach this route; it needs ${needed}`;
  return { allowed: false, status: 401, code: "UNAUTHORIZED", reason };
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Compares two equal-length digests in time that does not depend on where they differ. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ (b[i] ?? 0);
  return difference === 0;
}

/** What is wrong with a token value, or null: it must be non-empty and free of spaces and control characters to travel in a header. */
export function tokenProblem(token: string): string | null {
  if (token.length === 0) return "it is empty";
  if (/[\s\u0000-\u001f\u007f]/.test(token)) return "it contains a space or a control character, which an Authorization header cannot carry";
  return null;
}
