import { describe, expect, it } from "vitest";
import { runtimeName } from "../../src/runtime/host.ts";

describe("the test matrix", () => {
  it("runs this suite on the runtime the test script asked for", () => {
    const expected = process.env.SPOOL_EXPECT_RUNTIME;
    expect(["node", "bun", "deno"]).toContain(runtimeName);
    if (expected) expect(runtimeName).toBe(expected);
  });
});
