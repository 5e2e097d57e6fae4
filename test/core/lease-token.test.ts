import { describe, expect, it } from "vitest";
import { newLeaseToken } from "../../src/core/lease-token.ts";

describe("newLeaseToken", () => {
  it("makes 12-character URL-safe tokens that do not repeat", () => {
    const tokens = Array.from({ length: 20_000 }, newLeaseToken);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    // every one of the 64 characters turns up: the bits are spread, not stuck
    expect(new Set(tokens.join("")).size).toBe(64);
  });
});
