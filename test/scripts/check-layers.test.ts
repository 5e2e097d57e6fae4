import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "../support/processes.ts";

const SCRIPT = join(ROOT, "scripts", "check-layers.mjs");
const trees: string[] = [];

/** A project tree holding `files` (path under the root -> source). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "spool-layers-"));
  trees.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** Runs the checker the way `npm run check-portable` does, on Node. */
function check(root?: string): { status: number | null; output: string } {
  const run = spawnSync("node", root ? [SCRIPT, root] : [SCRIPT], { cwd: ROOT, encoding: "utf8" });
  return { status: run.status, output: run.stdout + run.stderr };
}

afterEach(() => {
  for (const root of trees.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe("the layer check", () => {
  it("passes on the repository as it stands", () => {
    const { status, output } = check();
    expect(output).toContain("layers:");
    expect(status).toBe(0);
  });

  it("fails on a store module that imports a service, naming the file and line", () => {
    const root = tree({
      "src/core/job.ts": "export type Job = { id: string };\n",
      "src/services/producer.ts": "export const BATCH = 10;\n",
      "src/store/claim-jobs.ts": [
        'import type { Job } from "../core/job.ts";',
        "// a comment that mentions import { x } from \"../services/producer.ts\" is no import",
        'import {',
        '  BATCH,',
        '} from "../services/producer.ts";',
        "export const claim = (job: Job) => BATCH;",
      ].join("\n"),
    });
    const { status, output } = check(root);
    expect(status).toBe(1);
    expect(output).toContain("src/store/claim-jobs.ts:3 store may not import services");
    expect(output).not.toContain("claim-jobs.ts:1");
    expect(output).not.toContain("claim-jobs.ts:2");
  });

  it("lets http name the facade's types but not load the facade", () => {
    const root = tree({
      "src/spool.ts": "export class Spool {}\n",
      "src/http/api.ts": 'import type { Spool } from "../spool.ts";\nexport type Api = Spool;\n',
      "src/http/handler.ts": 'import { Spool } from "../spool.ts";\nexport const make = () => new Spool();\n',
    });
    const { status, output } = check(root);
    expect(status).toBe(1);
    expect(output).toContain("src/http/handler.ts:1 http may not import spool (types only)");
    expect(output).not.toContain("src/http/api.ts");
  });

  it("fails on core importing anything outside core, and on a file with no layer", () => {
    const root = tree({
      "src/store/schema.ts": "export const V = 1;\n",
      "src/core/states.ts": 'export { V } from "../store/schema.ts";\n',
      "src/utils.ts": "export const x = 1;\n",
    });
    const { status, output } = check(root);
    expect(status).toBe(1);
    expect(output).toContain("src/core/states.ts:1 core may not import store");
    expect(output).toContain("src/utils.ts:1 has no layer");
  });

  it("fails when the web entry's import graph reaches a native driver or the runtime adapter", () => {
    const root = tree({
      "src/web.ts": 'export { open } from "./store/database.ts";\nexport type { Files } from "./store/files.ts";\n',
      "src/store/database.ts": 'import { Database } from "libsql";\nexport const open = () => new Database(":memory:");\n',
      "src/store/files.ts": 'import { readFile } from "node:fs/promises";\nexport type Files = typeof readFile;\n',
    });
    const { status, output } = check(root);
    expect(status).toBe(1);
    expect(output).toContain("the web entry loads libsql through src/web.ts -> src/store/database.ts");
    // a type-only re-export loads nothing
    expect(output).not.toContain("node:fs/promises");
  });
});
