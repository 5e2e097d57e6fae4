/** Waiting for a job to reach a status, the way several reliability tests need it. */
import type { Job } from "../../src/core/job.ts";
import type { Spool } from "../../src/spool.ts";
import { waitFor } from "./system.ts";

/** Resolves with the job once `spool` reads it back in `status`; fails after `timeoutMs` (20 s) naming both. */
export function reachStatus(spool: Spool, id: string, status: Job["status"], timeoutMs?: number): Promise<Job> {
  return waitFor(
    `job ${id} to be ${status}`,
    async () => {
      const job = await spool.getJob(id);
      return job?.status === status ? job : null;
    },
    timeoutMs,
  );
}
