import { describe, expect, it } from "vitest";
import { SpoolError } from "../../src/core/errors.ts";
import { encodePayload } from "../../src/core/payload.ts";

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SpoolError);
    return { code: (error as SpoolError).code, message: (error as SpoolError).message };
  }
  throw new Error("expected a SpoolError");
}

describe("encodePayload", () => {
  it("round-trips plain JSON values unchanged", () => {
    const value = { a: 1, b: "x", c: [true, null, { d: 2.5 }], e: "ü€😀" };
    expect(JSON.parse(encodePayload(value))).toEqual(value);
  });

  it("names the path of a function, symbol, BigInt or non-finite number", () => {
    expect(codeOf(() => encodePayload({ a: { b: () => 1 } }))).toEqual({ code: "INVALID_PAYLOAD", message: expect.stringContaining("payload.a.b is a function") });
    expect(codeOf(() => encodePayload({ s: Symbol("x") })).message).toContain("payload.s is a symbol");
    expect(codeOf(() => encodePayload({ list: [1, 2n] })).message).toContain("payload.list[1] is a BigInt");
    expect(codeOf(() => encodePayload({ n: Number.NaN })).message).toContain("payload.n is NaN");
    expect(codeOf(() => encodePayload({ n: Number.POSITIVE_INFINITY })).message).toContain("payload.n is Infinity");
  });

  it("rejects undefined at the top level and inside arrays, but lets object properties be omitted", () => {
    expect(codeOf(() => encodePayload(undefined)).message).toContain("payload is undefined");
    expect(codeOf(() => encodePayload([1, undefined])).message).toContain("payload[1] is undefined");
    expect(encodePayload({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it("rejects cycles and class instances JSON would flatten", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(codeOf(() => encodePayload(cyclic)).message).toContain("payload.self is a circular reference");
    expect(codeOf(() => encodePayload({ m: new Map() })).message).toContain("payload.m is a Map");
  });

  it("refuses a Date, which JSON would hand the handler as a string, naming its path", () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(codeOf(() => encodePayload({ order: { placedAt: at } }))).toEqual({
      code: "INVALID_PAYLOAD",
      message: expect.stringContaining("payload.order.placedAt is the Date 2026-01-02T03:04:05.000Z, which JSON turns into a string"),
    });
    expect(codeOf(() => encodePayload([1, new Date(Number.NaN)])).message).toContain("payload[1] is an invalid Date");
    expect(codeOf(() => encodePayload(at)).message).toContain("payload is the Date");
    // the same instant as text or a number arrives exactly as it was sent
    expect(JSON.parse(encodePayload({ placedAt: at.toISOString(), ms: at.getTime() }))).toEqual({ placedAt: "2026-01-02T03:04:05.000Z", ms: at.getTime() });
  });

  it("allows the same object twice when it is not a cycle", () => {
    const shared = { x: 1 };
    expect(JSON.parse(encodePayload({ a: shared, b: shared }))).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it("enforces the size limit in UTF-8 bytes", () => {
    expect(() => encodePayload("é".repeat(600), 1000)).toThrow(/1202 bytes of JSON, over the limit of 1000/);
    expect(encodePayload("a".repeat(900), 1000)).toHaveLength(902);
  });
});
