/**
 * spool/web: bundled for a browser-like platform it pulls in nothing
 * Node-only or native, and the bundle runs jobs on a real libSQL server.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../support/processes.ts";
import { type LibsqlServer, libsqlServer } from "../support/sqld.ts";
import { waitFor } from "../support/system.ts";

let dir: string;
let bundlePath: string;
let inputs: string[];
let server: LibsqlServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "spool-web-"));
  const result = await build({
    entryPoints: [join(ROOT, "src/web.ts")],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  inputs = Object.keys(result.metafile.inputs);
  bundlePath = join(dir, "spool-web.mjs");
  writeFileSync(bundlePath, result.outputFiles[0]!.text);
  server = await libsqlServer(dir);
  await server.start();
}, 60_000);

afterAll(async () => {
  await server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("spool/web", () => {
  it("bundles for a browser without any node: module, native driver or WebSocket package", () => {
    // a node: import or a native module would have failed the browser build; these would slip in as plain JavaScript
    const nodeOnly = inputs.filter((path) => /node_modules\/(libsql|@libsql\/(client|linux|darwin|win32)|ws|promise-limit)\/|src\/runtime\/|file-connection/.test(path));
    expect(nodeOnly).toEqual([]);
    expect(inputs).toContain("src/web.ts");
    expect(inputs.some((path) => path.includes("@libsql/hrana-client"))).toBe(true);
  });

  it("runs enqueued jobs from the bundle against a libSQL server", async () => {
    const web = await import(pathToFileURL(bundlePath).href);
    const spool = await web.createSpool({ url: server.url });
    const seen: number[] = [];
    spool.define("count", async (payload: { n: number }) => {
      seen.push(payload.n);
    });
    const ids = await Promise.all([1, 2, 3].map((n) => spool.enqueue("count", { n }).then((r: { id: string }) => r.id)));
    const worker = await spool.start({ http: false, concurrency: 3 });
    try {
      await waitFor("the jobs to complete", async () => {
        const jobs = await Promise.all(ids.map((id) => spool.getJob(id)));
        return jobs.every((job) => job?.status === "completed") || null;
      });
      expect(seen.sort()).toEqual([1, 2, 3]);
    } finally {
      await worker.stop();
      await spool.close();
    }
  });

  it("drains from the bundle against a libSQL server: spool.drain, the handler's scheduled, and a signed POST /drain", async () => {
    const web = await import(pathToFileURL(bundlePath).href);
    const spool = await web.createSpool({ url: server.url });
    const seen: number[] = [];
    spool.define("drained", (payload: { n: number }) => void seen.push(payload.n), { timeoutMs: 5_000 });
    try {
      const enqueue = (n: number) => spool.enqueue("drained", { n });
      await enqueue(1);
      expect(await spool.drain({ budgetMs: 10_000 })).toMatchObject({ ran: 1, completed: 1, remaining: 0 });
      const secret = "bundle-trigger-secret-0123456789";
      const handler = web.createHandler(spool, { apiToken: "bundle-api-token-0123", triggerSecret: secret });
      await enqueue(2);
      expect(await handler.scheduled()).toMatchObject({ ran: 1, completed: 1 });
      await enqueue(3);
      const body = JSON.stringify({ budgetMs: 10_000 });
      const response = await handler.fetch(
        new Request("http://edge.example/drain", {
          method: "POST",
          body,
          headers: { "content-type": "application/json", "spool-signature": await web.signTrigger(secret, body) },
        }),
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ ran: 1, completed: 1, remaining: 0 });
      expect(seen.sort()).toEqual([1, 2, 3]);
    } finally {
      await spool.close();
    }
  });

  it("refuses a file: URL with an error naming the main entry", async () => {
    const web = await import(pathToFileURL(bundlePath).href);
    const error = await web.createSpool({ url: `file:${join(dir, "local.db")}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(web.SpoolError);
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toContain('Import "spool" (the main entry)');
  });
});
