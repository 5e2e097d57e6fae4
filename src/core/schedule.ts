/**
 * Cron schedules as values: validating a definition, and the fire times of a
 * cron expression, computed by croner. Pure: "now" is always an argument, so
 * catch-up, time zones and DST are tested without timers.
 */
import { Cron as CronPattern } from "croner";
import { describe } from "./backoff.ts";
import { SpoolError } from "./errors.ts";
import { type EnqueueOptions, checkJobType, resolveEnqueueOptions } from "./options.ts";
import { DEFAULT_MAX_PAYLOAD_BYTES, encodePayload } from "./payload.ts";

/**
 * What happens to ticks that passed while no scheduler ran (downtime):
 * - `"latest"` (default): enqueue only the most recent missed tick;
 * - `"none"`: skip them all; a tick counts as missed when it is more than
 *   `ON_TIME_MS` overdue;
 * - `"all"`: enqueue every missed tick, oldest first, at most `MAX_CATCH_UP`
 *   (the most recent ones).
 */
export type CatchUp = "latest" | "none" | "all";

export const CATCH_UP_POLICIES: readonly CatchUp[] = ["latest", "none", "all"];

/** The most ticks one catch-up enqueues with policy "all". */
export const MAX_CATCH_UP = 100;

/**
 * How late a tick may be handled and still count as on time under catch-up
 * "none". Far above timer jitter and a busy database's short waits; below the
 * period of any schedule that runs less often than every few seconds.
 */
export const ON_TIME_MS = 5_000;

/** Enqueue options a schedule may give its jobs; `delayMs`, `runAt` and `idempotencyKey` make no sense per tick. */
export type ScheduleEnqueueOptions = Omit<EnqueueOptions, "delayMs" | "runAt" | "idempotencyKey">;

/** The options of `spool.schedule(name, cron, options)`. */
export interface ScheduleOptions extends ScheduleEnqueueOptions {
  /** The job type each tick enqueues. */
  type: string;
  /** The payload of every tick's job. Default null. */
  payload?: unknown;
  /** IANA time zone the expression is read in, e.g. "Europe/Berlin". Default UTC. */
  timezone?: string;
  /** Missed ticks after downtime. Default "latest". */
  catchUp?: CatchUp;
  /** Skip a tick while the previous tick's job is still scheduled, pending or running. Default false. */
  noOverlap?: boolean;
}

/** A validated schedule, as stored. */
export interface ScheduleSpec {
  name: string;
  cron: string;
  /** IANA zone, or null for UTC. */
  timezone: string | null;
  type: string;
  /** The payload as JSON text. */
  payload: string;
  /** Enqueue options for every tick's job, as given (type defaults apply when a tick is enqueued). */
  options: ScheduleEnqueueOptions;
  catchUp: CatchUp;
  noOverlap: boolean;
}

const SCHEDULE_KEYS = new Set(["type", "payload", "timezone", "catchUp", "noOverlap"]);
const TICK_KEYS = new Set(["queue", "priority", "maxAttempts", "backoff", "timeoutMs", "workflowId"]);

function invalid(message: string): never {
  throw new SpoolError("INVALID_OPTIONS", message);
}

/** Throws INVALID_OPTIONS unless `name` is a usable schedule name. */
export function checkScheduleName(name: unknown): string {
  if (typeof name !== "string" || !/^[A-Za-z0-9_.:\-/]{1,200}$/.test(name)) {
    invalid(`schedule name must be 1-200 letters, digits or _.:-/, got ${describe(name)}`);
  }
  return name;
}

/**
 * The fire times of one cron expression in one time zone. Ticks are whole
 * seconds; `after` is exclusive.
 */
export interface CronTimes {
  /** The first tick strictly after `ms`, or null when the expression never fires again. */
  nextAfter(ms: number): number | null;
  /** The latest tick at or before `ms`, or null. */
  latestAtOrBefore(ms: number): number | null;
}

/**
 * Compiles an expression (5 fields, 6 with seconds, 7 with years, or a
 * nickname such as "@daily") in `timezone` (null: UTC). Throws INVALID_CRON
 * naming the schedule, the expression and, for a bad zone, the zone.
 */
export function compileCron(name: string, cron: unknown, timezone: string | null): CronTimes {
  const label = `schedule ${JSON.stringify(name)}`;
  if (typeof cron !== "string" || cron.trim() === "") {
    throw new SpoolError("INVALID_CRON", `${label}: cron must be a non-empty cron expression string, got ${describe(cron)}`);
  }
  if (timezone !== null) checkTimeZone(label, cron, timezone);
  let pattern: CronPattern;
  try {
    // without a function croner starts no timer: this only computes times
    pattern = new CronPattern(cron, { timezone: timezone ?? "UTC" });
  } catch (error) {
    throw new SpoolError("INVALID_CRON", `${label}: invalid cron expression ${JSON.stringify(cron)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (pattern.getOnce() !== null) {
    throw new SpoolError(
      "INVALID_CRON",
      `${label}: ${JSON.stringify(cron)} is a date, not a cron expression; enqueue a one-off job with { runAt } instead`,
    );
  }
  return {
    nextAfter(ms) {
      return pattern.nextRun(new Date(ms))?.getTime() ?? null;
    },
    latestAtOrBefore(ms) {
      // previousRuns is exclusive of its reference; ticks are whole seconds
      return pattern.previousRuns(1, new Date(ms + 1))[0]?.getTime() ?? null;
    },
  };
}

function checkTimeZone(label: string, cron: string, timezone: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch (error) {
    throw new SpoolError(
      "INVALID_CRON",
      `${label}: unknown time zone ${JSON.stringify(timezone)} for cron ${JSON.stringify(cron)}; use an IANA name such as "Europe/Berlin"`,
      { cause: error },
    );
  }
}

/**
 * Validates a schedule definition at the call, so a bad one fails where it was
 * written: INVALID_CRON for the expression or zone (also one that never fires
 * after `now`), INVALID_OPTIONS for the name, type or other options,
 * INVALID_PAYLOAD for the payload.
 */
export function validateSchedule(
  name: unknown,
  cron: unknown,
  options: unknown,
  context: { now: number; maxPayloadBytes?: number; maxJsonDepth?: number },
): { spec: ScheduleSpec; times: CronTimes } {
  const checkedName = checkScheduleName(name);
  const label = `schedule ${JSON.stringify(checkedName)}`;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    invalid(`${label}: options must be an object { type, payload?, timezone?, catchUp?, noOverlap?, ...enqueue options }`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (SCHEDULE_KEYS.has(key) || TICK_KEYS.has(key)) continue;
    if (key === "delayMs" || key === "runAt" || key === "idempotencyKey") {
      invalid(`${label}: option ${JSON.stringify(key)} cannot be used with a schedule; every tick is enqueued at its fire time under its own key`);
    }
    invalid(`${label} has unknown option ${JSON.stringify(key)}`);
  }
  if (o.type === undefined) invalid(`${label} needs a job type: { type: "..." }`);
  let type: string;
  try {
    type = checkJobType(o.type);
  } catch (error) {
    invalid(`${label}: ${(error as Error).message}`);
  }
  if (o.timezone !== undefined && (typeof o.timezone !== "string" || o.timezone === "")) {
    throw new SpoolError("INVALID_CRON", `${label}: timezone must be an IANA time zone name, got ${describe(o.timezone)}`);
  }
  const timezone = (o.timezone as string | undefined) ?? null;
  const times = compileCron(checkedName, cron, timezone);
  if (times.nextAfter(context.now) === null) {
    throw new SpoolError("INVALID_CRON", `${label}: cron ${JSON.stringify(cron)} never fires after ${new Date(context.now).toISOString()}`);
  }
  const catchUp = o.catchUp ?? "latest";
  if (!CATCH_UP_POLICIES.includes(catchUp as CatchUp)) {
    invalid(`${label}: catchUp must be "latest", "none" or "all", got ${describe(o.catchUp)}`);
  }
  if (o.noOverlap !== undefined && typeof o.noOverlap !== "boolean") {
    invalid(`${label}: noOverlap must be true or false, got ${describe(o.noOverlap)}`);
  }
  const tickOptions: Record<string, unknown> = {};
  for (const key of TICK_KEYS) if (o[key] !== undefined) tickOptions[key] = o[key];
  try {
    resolveEnqueueOptions(tickOptions, undefined, context.now);
  } catch (error) {
    if (error instanceof SpoolError) throw new SpoolError(error.code, `${label}: ${error.message}`, { cause: error });
    throw error;
  }
  const payload = encodePayload(o.payload === undefined ? null : o.payload, context.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES, `payload of ${label}`, context.maxJsonDepth);
  return {
    spec: {
      name: checkedName,
      cron: cron as string,
      timezone,
      type,
      payload,
      options: tickOptions as ScheduleEnqueueOptions,
      catchUp: catchUp as CatchUp,
      noOverlap: o.noOverlap === true,
    },
    times,
  };
}

/** True when two specs define the same schedule (option order does not matter). */
export function sameSchedule(a: ScheduleSpec, b: ScheduleSpec): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** What one scheduler pass does for a schedule whose next tick is due. */
export interface DueTicks {
  /** Ticks to enqueue now, oldest first. */
  ticks: number[];
  /** True when the policy left out due ticks. */
  skipped: boolean;
  /** The first tick after `now`, or null when the expression never fires again. */
  nextFireAt: number | null;
}

/**
 * The ticks to enqueue when the schedule's next tick, `nextFireAt`, is due at
 * `now`: every tick in [nextFireAt, now] is due, and `catchUp` picks among them.
 * With `noOverlap` at most one tick (the latest) is enqueued, since each would
 * overlap the one before it.
 */
export function dueTicks(times: CronTimes, nextFireAt: number, now: number, catchUp: CatchUp, noOverlap = false): DueTicks {
  const next = times.nextAfter(now);
  if (nextFireAt > now) return { ticks: [], skipped: false, nextFireAt: nextFireAt };
  const limit = catchUp === "all" && !noOverlap ? MAX_CATCH_UP : 1;
  const due: number[] = [];
  let cursor = times.latestAtOrBefore(now);
  while (cursor !== null && cursor >= nextFireAt && due.length < limit) {
    due.push(cursor);
    cursor = times.latestAtOrBefore(cursor - 1);
  }
  due.reverse();
  // the walk stopped on the limit with due ticks left
  let skipped = cursor !== null && cursor >= nextFireAt;
  if (catchUp === "none" && due.length > 0 && now - due[due.length - 1]! > ON_TIME_MS) {
    skipped = true;
    due.length = 0;
  }
  return { ticks: due, skipped, nextFireAt: next };
}
