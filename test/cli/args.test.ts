/**
 * The command line's grammar: flags with and without values, `--`, and the
 * usage errors (exit status 2) for everything it cannot read.
 */
import { describe, expect, it } from "vitest";
import { type FlagSpec, UsageError, parseArgs } from "../../src/cli/args.ts";

const FLAGS: FlagSpec[] = [
  { name: "status", value: "S", help: "" },
  { name: "older-than", value: "DURATION", help: "" },
  { name: "dead", help: "" },
];

describe("parseArgs", () => {
  it("reads --flag value, --flag=value, boolean flags, -h, and positionals in order", () => {
    const parsed = parseArgs(["a", "--status", "dead", "b", "--older-than=7d", "--dead", "-h"], FLAGS, "spool x");
    expect(parsed.positionals).toEqual(["a", "b"]);
    expect([...parsed.flags]).toEqual([["status", "dead"], ["older-than", "7d"], ["dead", true], ["help", true]]);
  });

  it("takes every word after -- as positional, and a value that starts with a dash as a flag's value", () => {
    const parsed = parseArgs(["--status", "-5", "--", "--dead", "-1"], FLAGS, "spool x");
    expect(parsed.positionals).toEqual(["--dead", "-1"]);
    expect(parsed.flags.get("status")).toBe("-5");
    expect(parseArgs(["-"], FLAGS, "spool x").positionals).toEqual(["-"]);
  });

  it("throws a UsageError naming an unknown, repeated, valueless or value-taking-boolean flag", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--colour", "red"], /unknown flag --colour for spool x/],
      [["-x"], /unknown flag -x for spool x/],
      [["--status", "a", "--status=b"], /--status is given twice/],
      [["--status"], /--status needs a value \(S\)/],
      [["--dead=yes"], /--dead takes no value/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseArgs(argv, FLAGS, "spool x"), argv.join(" ")).toThrow(UsageError);
      expect(() => parseArgs(argv, FLAGS, "spool x"), argv.join(" ")).toThrow(message);
    }
  });
});
