/**
 * Each service takes one typed dependencies object and checks it in its
 * constructor, so a composition mistake fails at start with the field's name
 * instead of as a TypeError in the middle of a pass.
 */
import { SpoolError } from "../core/errors.ts";

/** What a field must be: an object with these methods, a positive integer, a function, or (with `?`) absent. */
export type Requirement = { methods: string[] } | "positive integer" | "function" | "string";

/** A Clock, as every service takes one. */
export const CLOCK: Requirement = { methods: ["now", "sleep"] };
/** A Logger, as every service takes one. */
export const LOGGER: Requirement = { methods: ["debug", "info", "warn", "error"] };
/** The Store's methods are many; a service checks it is there, and names the ones it calls. */
export function storeWith(...methods: string[]): Requirement {
  return { methods };
}

/**
 * Throws INVALID_OPTIONS (a SpoolError) naming `service.field` when a
 * required field is missing or of the wrong kind. Fields listed in
 * `optional` may be undefined, and are checked when present.
 */
export function checkDependencies(
  service: string,
  deps: object,
  required: Record<string, Requirement>,
  optional: Record<string, Requirement> = {},
): void {
  const record = deps as Record<string, unknown>;
  if (typeof deps !== "object" || deps === null) throw new SpoolError("INVALID_OPTIONS", `${service} needs a dependencies object`);
  for (const [field, requirement] of Object.entries(required)) check(service, field, record[field], requirement);
  for (const [field, requirement] of Object.entries(optional)) {
    if (record[field] !== undefined) check(service, field, record[field], requirement);
  }
}

function check(service: string, field: string, value: unknown, requirement: Requirement): void {
  const fail = (what: string) => {
    throw new SpoolError("INVALID_OPTIONS", `${service}: ${field} must be ${what}, got ${describe(value)}`);
  };
  if (requirement === "positive integer") {
    if (!Number.isSafeInteger(value) || (value as number) < 1) fail("a positive integer");
  } else if (requirement === "function") {
    if (typeof value !== "function") fail("a function");
  } else if (requirement === "string") {
    if (typeof value !== "string") fail("a string");
  } else {
    const wanted = `an object with ${requirement.methods.join(", ")}`;
    if (typeof value !== "object" || value === null) fail(wanted);
    const missing = requirement.methods.find((method) => typeof (value as Record<string, unknown>)[method] !== "function");
    if (missing !== undefined) throw new SpoolError("INVALID_OPTIONS", `${service}: ${field} must be ${wanted}, got an object without ${missing}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value) ?? String(value);
}
