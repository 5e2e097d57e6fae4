/**
 * Outcomes and the next claim in one write transaction. A busy worker frees
 * slots exactly when outcomes are ready to write, so writing them together
 * halves its commits: one transaction per batch of jobs instead of two.
 */
import type { ClaimedJob } from "../core/job.ts";
import { type ClaimRequest, claimJobs, claimStatement, claimedJobs } from "./claim-jobs.ts";
import { type Outcome, completeResult, outcomeStatements } from "./complete-jobs.ts";
import type { SettledJob } from "./dependencies.ts";
import type { Database } from "./database.ts";

export interface CompleteAndClaimResult {
  /** Ids whose outcome was written (their lease still held). */
  written: Set<string>;
  /** Dependents the outcomes released or cancelled (released ones may be among the claimed). */
  settled: SettledJob[];
  /** Newly claimed jobs, in the order they should start. */
  jobs: ClaimedJob[];
}

/** Writes `outcomes`, then claims as `request` asks, all or nothing. With no outcomes, only the claim runs (one statement). */
export async function completeAndClaim(db: Database, outcomes: Outcome[], request: ClaimRequest, now: number): Promise<CompleteAndClaimResult> {
  if (outcomes.length === 0) return { written: new Set(), settled: [], jobs: await claimJobs(db, request) };
  const at = outcomeStatements(outcomes, now);
  const statements = at.statements;
  const claimAt = statements.length;
  const claiming = request.limit > 0 && request.types.size > 0;
  if (claiming) statements.push(claimStatement(request));
  const results = await db.batch(statements, "write");
  const { written, settled } = completeResult(results, at);
  return {
    written,
    settled,
    jobs: claiming ? claimedJobs(results[claimAt]!, request) : [],
  };
}
