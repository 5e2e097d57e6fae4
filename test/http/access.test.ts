import { describe, expect, it } from "vitest";
import { TokenGuard } from "../../src/http/access.ts";

const ADMIN = "admin-token-0123456789";
const READ = "read-token-0123456789";
const METRICS = "metrics-token-0123456789";

const request = (token?: string) => new Request("http://127.0.0.1/x", { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

describe("TokenGuard", () => {
  it("opens every route when no API token is configured", async () => {
    const guard = new TokenGuard({});
    for (const needs of ["public", "metrics", "read", "admin"] as const) {
      expect(await guard.check(request(), needs)).toEqual({ allowed: true, access: "open" });
    }
  });

  it("keeps metrics routes open until a metrics token is set, then lets only it (or the API or read token) in", async () => {
    const open = new TokenGuard({ apiToken: ADMIN, readToken: READ });
    expect(await open.check(request(), "metrics")).toMatchObject({ allowed: true });
    const guard = new TokenGuard({ apiToken: ADMIN, readToken: READ, metricsToken: METRICS });
    for (const token of [METRICS, ADMIN, READ]) expect(await guard.check(request(token), "metrics"), token).toMatchObject({ allowed: true });
    for (const token of [undefined, "wrong", `${METRICS}0`]) {
      expect(await guard.check(request(token), "metrics"), String(token)).toMatchObject({ allowed: false, status: 401, code: "UNAUTHORIZED" });
    }
    // the metrics token reaches metrics only
    expect(await guard.check(request(METRICS), "read")).toMatchObject({ allowed: false, status: 401 });
    expect(await guard.check(request(METRICS), "admin")).toMatchObject({ allowed: false, status: 401 });
    // and a metrics token alone guards metrics while the rest stays open
    const metricsOnly = new TokenGuard({ metricsToken: METRICS });
    expect(await metricsOnly.check(request(), "metrics")).toMatchObject({ allowed: false, status: 401 });
    expect(await metricsOnly.check(request(), "admin")).toEqual({ allowed: true, access: "open" });
  });

  it("tells admin, read-only and token-less callers apart on every kind of route", async () => {
    const guard = new TokenGuard({ apiToken: ADMIN, readToken: READ });
    expect(await guard.check(request(ADMIN), "admin")).toEqual({ allowed: true, access: "admin" });
    expect(await guard.check(request(READ), "read")).toEqual({ allowed: true, access: "read" });
    expect(await guard.check(request(READ), "admin")).toMatchObject({ allowed: false, status: 403, code: "READ_ONLY_TOKEN" });
    expect(await guard.check(request(), "public")).toEqual({ allowed: true, access: "none" });
    expect(await guard.check(request(READ), "public")).toEqual({ allowed: true, access: "read" });
    expect(await guard.check(request(), "read")).toMatchObject({ allowed: false, status: 401 });
  });

  it("accepts the Bearer scheme in any case and refuses other schemes and malformed headers", async () => {
    const guard = new TokenGuard({ apiToken: ADMIN });
    const withHeader = (value: string) => new Request("http://127.0.0.1/x", { headers: { authorization: value } });
    for (const value of [`Bearer ${ADMIN}`, `bearer ${ADMIN}`, `BEARER  ${ADMIN}`]) {
      expect(await guard.check(withHeader(value), "admin"), value).toMatchObject({ allowed: true, access: "admin" });
    }
    for (const value of [ADMIN, `Basic ${ADMIN}`, `Bearer ${ADMIN} extra`, "Bearer", `Bearer${ADMIN}`]) {
      expect(await guard.check(withHeader(value), "admin"), value).toMatchObject({ allowed: false, status: 401 });
    }
  });
});
