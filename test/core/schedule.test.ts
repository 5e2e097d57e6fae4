import { afterEach, describe, expect, it } from "vitest";
import { SpoolError } from "../../src/core/errors.ts";
import { MAX_CATCH_UP, ON_TIME_MS, compileCron, dueTicks, sameSchedule, validateSchedule } from "../../src/core/schedule.ts";
import type { Spool } from "../../src/spool.ts";
import { openSpool } from "../support/system.ts";

const NOW = Date.UTC(2025, 0, 1, 0, 0, 30);
const at = (iso: string) => Date.parse(iso);

function errorOf(fn: () => unknown): SpoolError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SpoolError);
    return error as SpoolError;
  }
  throw new Error("expected a SpoolError");
}

function validate(cron: unknown, options: Record<string, unknown> = {}, name = "nightly") {
  return validateSchedule(name, cron, { type: "report", ...options }, { now: NOW });
}

describe("validateSchedule", () => {
  it("accepts five fields, six with seconds first, and the usual nicknames", () => {
    expect(validate("0 3 * * *").times.nextAfter(NOW)).toBe(at("2025-01-01T03:00:00Z"));
    expect(validate("*/15 * * * * *").times.nextAfter(NOW)).toBe(at("2025-01-01T00:00:45Z"));
    expect(validate("@hourly").times.nextAfter(NOW)).toBe(at("2025-01-01T01:00:00Z"));
    expect(validate("@daily").times.nextAfter(NOW)).toBe(at("2025-01-02T00:00:00Z"));
    expect(validate("@weekly").times.nextAfter(NOW)).toBe(at("2025-01-05T00:00:00Z"));
    expect(validate("@monthly").times.nextAfter(NOW)).toBe(at("2025-02-01T00:00:00Z"));
    expect(validate("@yearly").times.nextAfter(NOW)).toBe(at("2026-01-01T00:00:00Z"));
  });

  it("reads the expression in UTC unless a time zone is given", () => {
    expect(validate("0 3 * * *", { timezone: "Europe/Berlin" }).times.nextAfter(NOW)).toBe(at("2025-01-01T02:00:00Z"));
    expect(validate("0 3 * * *", { timezone: "America/New_York" }).times.nextAfter(NOW)).toBe(at("2025-01-01T08:00:00Z"));
  });

  it("fills in the defaults and keeps only the per-tick enqueue options", () => {
    const { spec } = validate("@daily", { payload: { a: 1 }, queue: "reports", priority: 10, maxAttempts: 2 });
    expect(spec).toEqual({
      name: "nightly",
      cron: "@daily",
      timezone: null,
      type: "report",
      payload: '{"a":1}',
      options: { queue: "reports", priority: 10, maxAttempts: 2 },
      catchUp: "latest",
      noOverlap: false,
    });
    expect(validate("@daily").spec.payload).toBe("null");
  });

  it("rejects a malformed expression with INVALID_CRON naming the schedule and the expression", () => {
    for (const cron of ["not a cron", "61 * * * *", "* * * *", "0 0 32 * *", "@reboot", "@fortnightly"]) {
      const error = errorOf(() => validate(cron));
      expect(error.code).toBe("INVALID_CRON");
      expect(error.message).toContain('schedule "nightly"');
      expect(error.message).toContain(JSON.stringify(cron));
    }
    expect(errorOf(() => validate("")).code).toBe("INVALID_CRON");
    expect(errorOf(() => validate(42)).message).toContain("cron must be a non-empty cron expression string, got 42");
  });

  it("rejects a date given as the expression, and an expression that never fires again", () => {
    const date = errorOf(() => validate("2030-01-01T00:00:00"));
    expect(date.code).toBe("INVALID_CRON");
    expect(date.message).toContain("is a date, not a cron expression");
    const past = errorOf(() => validate("0 0 0 1 1 * 2020"));
    expect(past.code).toBe("INVALID_CRON");
    expect(past.message).toContain('"0 0 0 1 1 * 2020" never fires after 2025-01-01T00:00:30.000Z');
    expect(errorOf(() => validate("0 0 30 2 *")).message).toContain("never fires");
  });

  it("rejects an unknown time zone with INVALID_CRON naming the schedule, the zone and the expression", () => {
    const error = errorOf(() => validate("0 3 * * *", { timezone: "Mars/Olympus_Mons" }));
    expect(error.code).toBe("INVALID_CRON");
    expect(error.message).toContain('schedule "nightly"');
    expect(error.message).toContain('unknown time zone "Mars/Olympus_Mons"');
    expect(error.message).toContain('"0 3 * * *"');
    expect(errorOf(() => validate("0 3 * * *", { timezone: 1 })).code).toBe("INVALID_CRON");
  });

  it("rejects bad options with INVALID_OPTIONS and a bad payload with INVALID_PAYLOAD, naming the schedule", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ catchUp: "some" }, 'catchUp must be "latest", "none" or "all"'],
      [{ noOverlap: "yes" }, "noOverlap must be true or false"],
      [{ type: "bad type!" }, "job type must be"],
      [{ type: undefined }, "needs a job type"],
      [{ delayMs: 1000 }, 'option "delayMs" cannot be used with a schedule'],
      [{ runAt: "2030-01-01" }, 'option "runAt" cannot be used with a schedule'],
      [{ idempotencyKey: "k" }, 'option "idempotencyKey" cannot be used with a schedule'],
      [{ color: "red" }, 'unknown option "color"'],
      [{ maxAttempts: 0 }, "maxAttempts must be an integer >= 1"],
    ];
    for (const [options, message] of cases) {
      const error = errorOf(() => validate("@daily", options));
      expect(error.code, message).toBe("INVALID_OPTIONS");
      expect(error.message).toContain('schedule "nightly"');
      expect(error.message).toContain(message);
    }
    expect(errorOf(() => validateSchedule("bad name!", "@daily", { type: "x" }, { now: NOW })).message).toContain("schedule name must be");
    const payload = errorOf(() => validate("@daily", { payload: { f: () => 1 } }));
    expect(payload.code).toBe("INVALID_PAYLOAD");
    expect(payload.message).toContain('payload of schedule "nightly".f is a function');
  });

  it("treats definitions that differ only in option order as the same schedule", () => {
    const a = validate("@daily", { payload: { x: 1, y: 2 }, queue: "q", priority: 5 }).spec;
    const b = validate("@daily", { priority: 5, queue: "q", payload: { x: 1, y: 2 } }).spec;
    expect(sameSchedule(a, b)).toBe(true);
    expect(sameSchedule(a, validate("@daily", { payload: { x: 1, y: 3 }, queue: "q", priority: 5 }).spec)).toBe(false);
    expect(sameSchedule(a, validate("@hourly", { payload: { x: 1, y: 2 }, queue: "q", priority: 5 }).spec)).toBe(false);
  });
});

describe("dueTicks", () => {
  const everyMinute = compileCron("m", "* * * * *", null);
  const t = (minute: number, second = 0) => Date.UTC(2025, 0, 1, 0, minute, second);

  it("enqueues nothing before the next tick is due", () => {
    expect(dueTicks(everyMinute, t(5), t(4, 59), "all")).toEqual({ ticks: [], skipped: false, nextFireAt: t(5) });
  });

  it("enqueues the tick that is due now under every policy", () => {
    for (const policy of ["latest", "none", "all"] as const) {
      expect(dueTicks(everyMinute, t(5), t(5, 0), policy)).toEqual({ ticks: [t(5)], skipped: false, nextFireAt: t(6) });
    }
  });

  it("after downtime takes the latest missed tick, none of them, or all of them in order", () => {
    expect(dueTicks(everyMinute, t(1), t(5, 30), "latest")).toEqual({ ticks: [t(5)], skipped: true, nextFireAt: t(6) });
    expect(dueTicks(everyMinute, t(1), t(5, 30), "none")).toEqual({ ticks: [], skipped: true, nextFireAt: t(6) });
    expect(dueTicks(everyMinute, t(1), t(5, 30), "all")).toEqual({ ticks: [t(1), t(2), t(3), t(4), t(5)], skipped: false, nextFireAt: t(6) });
  });

  it("under catch-up none still enqueues a tick handled a little late", () => {
    expect(dueTicks(everyMinute, t(5), t(5) + ON_TIME_MS, "none").ticks).toEqual([t(5)]);
    expect(dueTicks(everyMinute, t(5), t(5) + ON_TIME_MS + 1, "none").ticks).toEqual([]);
  });

  it("bounds catch-up all at the most recent hundred ticks", () => {
    const due = dueTicks(everyMinute, t(0), t(0) + 250 * 60_000, "all");
    expect(due.ticks).toHaveLength(MAX_CATCH_UP);
    expect(due.ticks[0]).toBe(t(0) + 151 * 60_000);
    expect(due.ticks[99]).toBe(t(0) + 250 * 60_000);
    expect(due.skipped).toBe(true);
  });

  it("with noOverlap enqueues only the latest missed tick, since each would overlap the one before", () => {
    expect(dueTicks(everyMinute, t(1), t(5, 30), "all", true).ticks).toEqual([t(5)]);
  });
});

describe("Spool.schedule definitions", () => {
  let spool: Spool;
  let cleanup: () => Promise<void>;
  afterEach(async () => cleanup?.());

  it("refuses a second, different definition of a name with DUPLICATE_SCHEDULE and keeps the first", async () => {
    ({ spool, cleanup } = await openSpool());
    await spool.schedule("report", "0 3 * * *", { type: "report", payload: { a: 1 } });
    // the same definition again is fine: a worker defines its schedules at every start
    await spool.schedule("report", "0 3 * * *", { payload: { a: 1 }, type: "report" });
    for (const [cron, options] of [
      ["0 4 * * *", { type: "report", payload: { a: 1 } }],
      ["0 3 * * *", { type: "report", payload: { a: 2 } }],
      ["0 3 * * *", { type: "report", payload: { a: 1 }, timezone: "Europe/Berlin" }],
      ["0 3 * * *", { type: "report", payload: { a: 1 }, noOverlap: true }],
    ] as const) {
      const error = await spool.schedule("report", cron, options).then(() => null, (e: unknown) => e as SpoolError);
      expect(error).toBeInstanceOf(SpoolError);
      expect(error!.code).toBe("DUPLICATE_SCHEDULE");
      expect(error!.message).toContain('schedule "report" is already defined in this process as "0 3 * * *"');
    }
    const [stored] = await spool.listSchedules();
    expect(stored).toMatchObject({ name: "report", cron: "0 3 * * *", timezone: null, payload: { a: 1 }, noOverlap: false });
    // after unschedule the name is free for a new definition
    expect(await spool.unschedule("report")).toBe(true);
    await spool.schedule("report", "0 4 * * *", { type: "report" });
    expect((await spool.listSchedules()).map((s) => s.cron)).toEqual(["0 4 * * *"]);
  });

  it("writes nothing for a bad cron, a bad time zone or a bad option", async () => {
    ({ spool, cleanup } = await openSpool());
    await expect(spool.schedule("a", "every day", { type: "x" })).rejects.toMatchObject({ code: "INVALID_CRON" });
    await expect(spool.schedule("b", "@daily", { type: "x", timezone: "Europe/Atlantis" })).rejects.toMatchObject({
      code: "INVALID_CRON",
      message: expect.stringContaining('schedule "b": unknown time zone "Europe/Atlantis"'),
    });
    await expect(spool.schedule("c", "@daily", { type: "x", catchUp: "every" as never })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    expect(await spool.listSchedules()).toEqual([]);
  });
});
