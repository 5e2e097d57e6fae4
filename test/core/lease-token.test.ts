import { describe, expect, it } from "vitest";
import { newLeaseToken } from "../../src/core/lease-token.ts";

describe("newLeaseToken", () => {
  it("makes 12-digit hex tokens that do not repeat", () => {
    const tokens = Array.from({ length: 20_000 }, newLeaseToken);
    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    // every digit turns up in every position: no position is fixed, as a UUID's version digit is
    for (let position = 0; position < 12; position++) {
      expect(new Set(tokens.map((t) => t[position])).size).toBe(16);
    }
  });
});
