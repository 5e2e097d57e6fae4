/**
 * The job state machine: the closed set of statuses and every transition
 * between them, each with the reason it happens. docs/state-machine.md draws it.
 * The transition constructors (transitions.ts) ask `assertTransition` before
 * they build an outcome, and the store's statements encode the same edges in
 * their WHERE clauses, so an edge missing here is a bug that throws instead of
 * a silent bad write.
 */
import { SpoolError } from "./errors.ts";

export const JOB_STATUSES = ["blocked", "scheduled", "pending", "running", "completed", "dead", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export type TransitionReason =
  | "promote"
  | "claim"
  | "complete"
  | "retry"
  | "fail"
  | "lease_expired"
  | "release"
  | "cancel"
  | "replay"
  | "block"
  | "unblock"
  | "dependency_failed";

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
  { reason: "cancel", from: ["blocked", "scheduled", "pending"], to: ["cancelled"] },
  // a running job asked to cancel ends cancelled when its attempt stops without completing
  { reason: "cancel", from: ["running"], to: ["cancelled"] },
  { reason: "replay", from: ["dead", "cancelled"], to: ["pending"] },
  // a job cancelled because a dependency failed waits again once that dependency is retried
  { reason: "block", from: ["cancelled"], to: ["blocked"] },
  // the last `after` dependency finished: run now, or at the job's own runAt
  { reason: "unblock", from: ["blocked"], to: ["pending", "scheduled"] },
  { reason: "dependency_failed", from: ["blocked"], to: ["cancelled"] },
];

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === "string" && (JOB_STATUSES as readonly string[]).includes(value);
}

// reason -> from -> allowed targets: the executor asks once per job, and a
// lookup builds no key string
const ALLOWED = new Map<string, Map<string, Set<string>>>();
for (const t of TRANSITIONS) {
  let byFrom = ALLOWED.get(t.reason);
  if (!byFrom) ALLOWED.set(t.reason, (byFrom = new Map()));
  for (const from of t.from) {
    let targets = byFrom.get(from);
    if (!targets) byFrom.set(from, (targets = new Set()));
    for (const to of t.to) targets.add(to);
  }
}

/** True when `reason` may move a job from `from` to `to`. */
export function canTransition(from: JobStatus, to: JobStatus, reason: TransitionReason): boolean {
  return ALLOWED.get(reason)?.get(from)?.has(to) === true;
}

/** Throws ILLEGAL_TRANSITION when the table has no such edge. */
export function assertTransition(from: JobStatus, to: JobStatus, reason: TransitionReason): void {
  if (!canTransition(from, to, reason)) {
    throw new SpoolError("ILLEGAL_TRANSITION", `a job cannot go from ${from} to ${to} by ${reason}`);
  }
}
