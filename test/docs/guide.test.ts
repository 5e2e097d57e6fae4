/**
 * docs/guide.md cannot rot: every code block in it is a region of a source
 * file the tests run, compared here character for character, and its
 * chapters keep the course's order.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script, shared with `node scripts/snippets.mjs --write`
import { extractRegion, regionOf, snippetsOf } from "../../scripts/snippets.mjs";
import { ROOT } from "../support/processes.ts";

const guide = readFileSync(join(ROOT, "docs/guide.md"), "utf8");

interface Snippet {
  file: string;
  region: string;
  lang: string;
  block: string;
}

describe("docs/guide.md", () => {
  const snippets = snippetsOf(guide) as Snippet[];

  it("holds, for every snippet, exactly the text of the region it names", () => {
    expect(snippets.length).toBeGreaterThanOrEqual(12);
    for (const snippet of snippets) {
      expect(snippet.block, `${snippet.file}#${snippet.region} differs: run node scripts/snippets.mjs --write docs/guide.md`).toBe(regionOf(snippet));
    }
  });

  it("has no code block of the example that is not a checked snippet", () => {
    const tsBlocks = guide.match(/```ts\n/g) ?? [];
    expect(tsBlocks.length).toBe(snippets.length);
  });

  it("walks through the course's chapters in order", () => {
    const chapters = [...guide.matchAll(/^## \d+\. (.+)$/gm)].map((m) => m[1]);
    expect(chapters).toEqual([
      "Why background jobs: the request-cycle problem",
      "The queue table",
      "The worker loop",
      "Serialization",
      "Retries and backoff",
      "Dead letters",
      "Idempotency",
      "Timeouts and stale jobs",
      "Delayed jobs",
      "Recurring jobs (cron)",
      "Concurrency and locking",
      "Priorities",
      "Rate limits",
      "Chaining and workflows",
      "Monitoring and observability",
      "Running on many machines",
    ]);
  });

  it("is linked from the README", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("(docs/guide.md)");
  });
});

describe("region extraction", () => {
  const source = ["function f() {", "  // #region outer", "  const a = 1;", "  // #region inner", "  const b = 2;", "  // #endregion inner", "  // #endregion outer", "}"].join("\n");

  it("dedents a region and leaves out the markers of regions nested in it", () => {
    expect(extractRegion(source, "outer")).toBe("const a = 1;\nconst b = 2;\n");
    expect(extractRegion(source, "inner")).toBe("const b = 2;\n");
  });

  it("fails naming a region that is not there", () => {
    expect(() => extractRegion(source, "gone", "x.ts")).toThrow('x.ts has no region "gone"');
  });
});
