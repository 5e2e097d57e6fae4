/**
 * A job id as the API and the CLI take it: the decimal text of a rowid, at
 * most 18 digits so it always fits SQLite's 64-bit integer. Anything else
 * names no job (lookups answer "not found" without asking the database).
 */
export function isJobId(id: unknown): id is string {
  return typeof id === "string" && JOB_ID.test(id);
}

const JOB_ID = /^\d{1,18}$/;
