/**
 * The job state machine: the closed set of statuses and every transition
 * between them, each with the reason it happens. docs/state-machine.md draws it.
 * The store's statements encode the same edges in their WHERE clauses; code
 * that decides a transition asks `assertTransition` first, so an edge missing
 * here is a bug that throws instead of a silent bad write.
 */
import { SpoolError } from "./errors.ts";

export const JOB_STATUSES = ["scheduled", "pending", "running", "completed", "dead", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINAL_STATUSES: readonly JobStatus[] = ["completed", "dead", "cancelled"];

export type TransitionReason =
  | "promote"
  | "claim"
  | "complete"
  | "retry"
  | "fail"
  | "lease_expired"
  | "release"
  | "cancel"
  | "replay";

interface Transition {
  readonly reason: TransitionReason;
  readonly from: readonly JobStatus[];
  readonly to: readonly JobStatus[];
}

export const TRANSITIONS: readonly Transition[] = [
  { reason: "promote", from: ["scheduled"], to: ["pending"] },
  { reason: "claim", from: ["pending"], to: ["running"] },
  { reason: "complete", from: ["running"], to: ["completed"] },
  { reason: "retry", from: ["running"], to: ["scheduled"] },
  { reason: "fail", from: ["running"], to: ["dead"] },
  { reason: "lease_expired", from: ["running"], to: ["scheduled", "dead"] },
  // graceful shutdown hands an unfinished job back without spending an attempt
  { reason: "release", from: ["running"], to: ["pending"] },
  { reason: "cancel", from: ["scheduled", "pending"], to: ["cancelled"] },
  // a running job asked to cancel ends cancelled when its attempt stops without completing
  { reason: "cancel", from: ["running"], to: ["cancelled"] },
  { reason: "replay", from: ["dead", "cancelled"], to: ["pending"] },
];

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === "string" && (JOB_STATUSES as readonly string[]).includes(value);
}

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

// every allowed edge as one key, because the executor asks once per job
const ALLOWED = new Set(TRANSITIONS.flatMap((t) => t.from.flatMap((from) => t.to.map((to) => `${t.reason}:${from}>${to}`))));

/** True when `reason` may move a job from `from` to `to`. */
export function canTransition(from: JobStatus, to: JobStatus, reason: TransitionReason): boolean {
  return ALLOWED.has(`${reason}:${from}>${to}`);
}

/** The statuses `reason` may start from. */
export function sourcesOf(reason: TransitionReason): readonly JobStatus[] {
  return [...new Set(TRANSITIONS.filter((t) => t.reason === reason).flatMap((t) => t.from))];
}

/** Throws ILLEGAL_TRANSITION when the table has no such edge. */
export function assertTransition(from: JobStatus, to: JobStatus, reason: TransitionReason): void {
  if (!canTransition(from, to, reason)) {
    throw new SpoolError("ILLEGAL_TRANSITION", `a job cannot go from ${from} to ${to} by ${reason}`);
  }
}
