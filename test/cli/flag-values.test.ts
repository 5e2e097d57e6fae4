/**
 * Flag values: durations, priorities, integers, instants and JSON, and the
 * usage errors that name a value that does not parse.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/args.ts";
import { parseDuration, parseInstant, parseInteger, parseJsonArgument, parsePriority } from "../../src/cli/flag-values.ts";

describe("flag values", () => {
  it("reads durations in ms, s, m, h, d and w, alone or run together", () => {
    expect(parseDuration("500ms", "--x")).toBe(500);
    expect(parseDuration("10s", "--x")).toBe(10_000);
    expect(parseDuration("5m", "--x")).toBe(300_000);
    expect(parseDuration("2h", "--x")).toBe(7_200_000);
    expect(parseDuration("7d", "--x")).toBe(604_800_000);
    expect(parseDuration("1w", "--x")).toBe(604_800_000);
    expect(parseDuration("1h30m", "--x")).toBe(5_400_000);
    expect(parseDuration("1.5s", "--x")).toBe(1_500);
    expect(parseDuration("0s", "--x")).toBe(0);
  });

  it("refuses a duration without a unit or with an unknown one, naming the flag and value", () => {
    for (const bad of ["10", "10 s", "s", "-5s", "5y", "", "1e3ms", "99999999999999999w"]) {
      expect(() => parseDuration(bad, "--delay"), bad).toThrow(UsageError);
    }
    expect(() => parseDuration("10", "--delay")).toThrow('--delay "10" is not a duration; write it like 500ms, 10s, 5m, 2h or 7d');
  });

  it("reads priorities by name in any case or as integers, and refuses anything else", () => {
    expect(["critical", "HIGH", "Normal", "low", "15", "-3"].map((p) => parsePriority(p, "--priority"))).toEqual([20, 10, 0, -10, 15, -3]);
    expect(() => parsePriority("urgent", "--priority")).toThrow(/--priority "urgent" is not a priority/);
    expect(() => parsePriority("1.5", "--priority")).toThrow(UsageError);
  });

  it("reads integers, instants and JSON, and names what does not parse", () => {
    expect(parseInteger("-42", "--limit")).toBe(-42);
    expect(() => parseInteger("ten", "--limit")).toThrow('--limit "ten" is not an integer');
    expect(() => parseInteger("1.5", "--limit")).toThrow(UsageError);
    expect(parseInstant("2030-01-01T09:00:00Z", "--run-at")).toBe(Date.UTC(2030, 0, 1, 9));
    expect(parseInstant("2030-01-01", "--run-at")).toBe(Date.UTC(2030, 0, 1));
    expect(() => parseInstant("tomorrow", "--run-at")).toThrow(/--run-at "tomorrow" is not an ISO-8601 date/);
    expect(() => parseInstant("2030-13-45", "--run-at")).toThrow(UsageError);
    expect(parseJsonArgument('{"a":[1,2]}', "the payload")).toEqual({ a: [1, 2] });
    expect(parseJsonArgument("null", "the payload")).toBeNull();
    expect(() => parseJsonArgument("{a:1}", "the payload")).toThrow(/the payload is not valid JSON .*: \{a:1\}/);
  });
});
