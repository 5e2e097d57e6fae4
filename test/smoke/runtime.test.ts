import { describe, expect, it } from "vitest";
import { runtimeName } from "../../src/runtime/host.ts";
import { currentRuntime, currentRuntimeVersion, nodeBinary, startProcess } from "../support/processes.ts";

describe("the test matrix", () => {
  it("runs this suite on the runtime the test script asked for", () => {
    const expected = process.env.SPOOL_EXPECT_RUNTIME;
    expect(["node", "bun", "deno"]).toContain(runtimeName);
    if (expected) expect(runtimeName).toBe(expected);
  });

  it("runs this suite on the runtime version the matrix cell asked for", () => {
    // set by scripts/test-matrix.mjs: "v22." for the Node 22 cell, the exact version for Bun and Deno
    const expected = process.env.SPOOL_EXPECT_VERSION;
    if (expected) expect(currentRuntimeVersion().startsWith(expected), `${currentRuntimeVersion()} is not ${expected}`).toBe(true);
  });

  it("spawns Node workers with the same Node binary that runs the suite on Node", async () => {
    const child = startProcess(nodeBinary(), ["-p", "process.version"]);
    expect(await child.exited, child.output()).toBe(0);
    const spawned = child.output().trim();
    expect(spawned).toMatch(/^v\d+\.\d+\.\d+$/);
    if (currentRuntime() === "node") expect(spawned).toBe(process.version);
  });
});
