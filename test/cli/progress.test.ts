/**
 * Progress on stderr: a bar redrawn in place on a terminal, plain lines at
 * most once a second (and the last) otherwise.
 */
import { describe, expect, it } from "vitest";
import { progressDisplay, renderBar } from "../../src/cli/progress.ts";

describe("progress", () => {
  it("draws a bar fitted to the terminal's width with the percentage and counts", () => {
    expect(renderBar("purging", { done: 500, total: 1_000 }, 80)).toBe(`purging [${"#".repeat(20)}${".".repeat(20)}]  50% 500/1000`);
    expect(renderBar("purging", { done: 0, total: 0 }, 80)).toBe(`purging [${"#".repeat(40)}] 100% 0/0`);
    const narrow = renderBar("purging", { done: 1, total: 3 }, 40);
    expect(narrow.length).toBeLessThan(40);
    expect(narrow).toMatch(/^purging \[#+\.+\]  33% 1\/3$/);
    expect(renderBar("purging", { done: 1, total: 3 }, 20)).toBe("purging  33% 1/3");
  });

  it("redraws the bar in place on a terminal and ends its line when finished", () => {
    const written: string[] = [];
    const display = progressDisplay({ write: (t) => written.push(t), terminal: true, columns: 60, label: "retrying", now: () => 0 });
    display.update({ done: 1_000, total: 2_000 });
    display.update({ done: 2_000, total: 2_000 });
    display.finish();
    expect(written).toHaveLength(3);
    expect(written[0]).toMatch(/^\rretrying \[#+\.+\]  50% 1000\/2000\x1b\[K$/);
    expect(written[1]).toMatch(/^\rretrying \[#+\] 100% 2000\/2000\x1b\[K$/);
    expect(written[2]).toBe("\n");
  });

  it("writes plain lines at most once a second, always the last, and nothing for an operation that reported nothing", () => {
    let now = 0;
    const written: string[] = [];
    const display = progressDisplay({ write: (t) => written.push(t), terminal: false, label: "purging dead jobs", now: () => now });
    display.update({ done: 1_000, total: 3_500 });
    now = 400;
    display.update({ done: 2_000, total: 3_500 });
    now = 1_100;
    display.update({ done: 3_000, total: 3_500 });
    now = 1_200;
    display.update({ done: 3_500, total: 3_500 });
    display.finish();
    expect(written).toEqual(["purging dead jobs: 1000/3500\n", "purging dead jobs: 3000/3500\n", "purging dead jobs: 3500/3500\n"]);

    const quiet: string[] = [];
    progressDisplay({ write: (t) => quiet.push(t), terminal: false, label: "x", now: () => 0 }).finish();
    expect(quiet).toEqual([]);
  });
});
