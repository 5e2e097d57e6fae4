/**
 * The edge example is what users copy: it may reach Spool only through its
 * public entry points, and its entries must have the shape their platforms
 * call.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, startProcess } from "../support/processes.ts";

const EXAMPLE = join(ROOT, "examples/edge");

function importsOf(file: string): string[] {
  const source = readFileSync(join(EXAMPLE, file), "utf8");
  return [...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

describe("examples/edge", () => {
  it("imports Spool only through spool/web, and nothing platform-specific", () => {
    const files = readdirSync(EXAMPLE).filter((f) => f.endsWith(".ts"));
    expect(files.sort()).toEqual(["app.ts", "cloudflare.ts", "deno.ts", "jobs.ts"]);
    for (const file of files) {
      for (const specifier of importsOf(file)) {
        expect(specifier === "spool/web" || /^\.\/[a-z-]+\.ts$/.test(specifier), `${file} imports ${specifier}`).toBe(true);
      }
    }
  });

  it("typechecks the Deno Deploy entry with Deno's own types (the others are in tsconfig.json)", async () => {
    const check = startProcess(join(ROOT, "node_modules", ".bin", "deno"), ["check", "--config", join(EXAMPLE, "deno.json"), join(EXAMPLE, "deno.ts")]);
    const status = await check.exited;
    expect(status, check.output()).toBe(0);
  });

  it("has a Deno Deploy entry with Deno.serve and Deno.cron, and a Cloudflare entry with fetch and scheduled on a Cron Trigger", () => {
    const deno = readFileSync(join(EXAMPLE, "deno.ts"), "utf8");
    expect(deno).toMatch(/Deno\.serve\(/);
    expect(deno).toMatch(/Deno\.cron\([^)]*\* \* \* \* \*/);
    expect(deno).toMatch(/\.scheduled\(\)/);
    const cloudflare = readFileSync(join(EXAMPLE, "cloudflare.ts"), "utf8");
    expect(cloudflare).toMatch(/export default \{[\s\S]*async fetch\(request: Request, env: EdgeEnv\)[\s\S]*async scheduled\(controller: unknown, env: EdgeEnv, ctx: WaitUntilContext\)/);
    expect(cloudflare).toMatch(/ctx\.waitUntil\(/);
    expect(readFileSync(join(EXAMPLE, "wrangler.toml"), "utf8")).toMatch(/main = "cloudflare\.ts"[\s\S]*\[triggers\]\s*\ncrons = \["\* \* \* \* \*"\]/);
  });
});
