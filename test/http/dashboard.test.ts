import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createHandler } from "../../src/http/handler.ts";
import { DASHBOARD_ASSETS } from "../../src/http/dashboard/assets.ts";
import { ROOT } from "../support/processes.ts";
import { openSpool } from "../support/system.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(options: Parameters<typeof createHandler>[1] = {}) {
  const opened = await openSpool();
  cleanups.push(opened.cleanup);
  const app = createHandler(opened.spool, options);
  const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
    app.fetch(new Request(`http://127.0.0.1:8787${path}`, { method, headers }));
  return { get };
}

/** The dashboard URLs a file names: the page's src/href, a script's imports. */
function referencedFiles(name: string, body: string): string[] {
  const found = new Set<string>();
  if (name.endsWith(".html")) for (const m of body.matchAll(/(?:src|href)="\/dashboard\/([^"]+)"/g)) found.add(m[1]!);
  if (name.endsWith(".js")) for (const m of body.matchAll(/from "\.\/([^"]+)"/g)) found.add(m[1]!);
  return [...found];
}

describe("the dashboard's routes", () => {
  it("answers GET / with the page as HTML that may load only the worker's own files", async () => {
    const { get } = await setup();
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/dashboard/app.js"></script>');
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });

  it("serves every file the page and its scripts refer to, each with its content type", async () => {
    const { get } = await setup();
    const types: Record<string, string> = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml" };
    const pending = referencedFiles("index.html", DASHBOARD_ASSETS["index.html"]!.body);
    const served = new Set<string>();
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (served.has(name)) continue;
      served.add(name);
      const response = await get(`/dashboard/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get("content-type"), name).toBe(types[name.split(".").pop()!]);
      expect(response.headers.get("etag"), name).toBe(DASHBOARD_ASSETS[name]!.etag);
      pending.push(...referencedFiles(name, await response.text()));
    }
    expect([...served].sort()).toEqual(["api.js", "app.js", "charts.js", "dom.js", "graph.js", "icon.svg", "style.css"]);
  });

  it("serves the page and its files without a token where the API needs one", async () => {
    const { get } = await setup({ apiToken: "admin-token", readToken: "read-token" });
    expect((await get("/")).status).toBe(200);
    expect((await get("/dashboard/app.js")).status).toBe(200);
    expect((await get("/dashboard/nope.js")).status).toBe(404);
    expect((await get("/stats")).status).toBe(401);
    expect((await get("/stats", { authorization: "Bearer read-token" })).status).toBe(200);
  });

  it("answers 304 with no body when the browser already has the file", async () => {
    const { get } = await setup();
    const first = await get("/dashboard/app.js");
    const etag = first.headers.get("etag")!;
    const again = await get("/dashboard/app.js", { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await get("/", { "if-none-match": `W/${DASHBOARD_ASSETS["index.html"]!.etag}` })).status).toBe(304);
    expect((await get("/dashboard/app.js", { "if-none-match": '"stale"' })).status).toBe(200);
  });

  it("answers HEAD / with the page's headers and no body", async () => {
    const { get } = await setup();
    const response = await get("/", {}, "HEAD");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await response.text()).toBe("");
  });

  it("answers 404 NOT_FOUND for a file the dashboard does not have, and never reads a path", async () => {
    const { get } = await setup();
    for (const name of ["nope.js", "assets.ts", "index.html", "..%2Fapi.ts", "%2e%2e%2f%2e%2e%2fpackage.json", "constructor", "__proto__"]) {
      const response = await get(`/dashboard/${name}`);
      expect(response.status, name).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code, name).toBe("NOT_FOUND");
    }
  });

  it("embeds exactly the files in src/http/dashboard/ (assets.ts is regenerated by npm run build)", async () => {
    const script = pathToFileURL(join(ROOT, "scripts", "embed-dashboard.mjs")).href;
    const { renderAssets } = (await import(script)) as { renderAssets(): string };
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(join(ROOT, "src", "http", "dashboard", "assets.ts"), "utf8")).toBe(renderAssets());
  });
});
