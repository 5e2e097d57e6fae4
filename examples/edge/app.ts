// Opens the Spool on a remote libSQL server (Turso, or sqld) and builds the
// fetch handler both platform entries serve. Nothing here is platform code.
import { type Handler, createHandler, createSpool } from "spool/web";
import jobs from "./jobs.ts";

/** The settings both entries read from their platform's environment. */
export interface EdgeEnv {
  /** libsql://…, https://… (a file: URL needs the main "spool" entry and a long-running process). */
  SPOOL_DATABASE_URL: string;
  SPOOL_AUTH_TOKEN?: string;
  /** Set it: without a token every route is open to anyone who finds the URL. */
  SPOOL_API_TOKEN?: string;
  SPOOL_TRIGGER_SECRET?: string;
  SPOOL_TRIGGER_SECRET_NEXT?: string;
}

export async function openHandler(env: EdgeEnv): Promise<Handler> {
  const spool = await createSpool({ url: env.SPOOL_DATABASE_URL, authToken: env.SPOOL_AUTH_TOKEN });
  for (const [type, { handler, ...options }] of Object.entries(jobs.jobs)) spool.define(type, handler, options);
  // stored in the database: every isolate defines them, each tick still fires once
  for (const [name, { cron, ...options }] of Object.entries(jobs.schedules ?? {})) await spool.schedule(name, cron, options);
  const triggerSecrets = [env.SPOOL_TRIGGER_SECRET, env.SPOOL_TRIGGER_SECRET_NEXT].filter((s): s is string => Boolean(s));
  return createHandler(spool, {
    apiToken: env.SPOOL_API_TOKEN || undefined,
    triggerSecrets,
    // a Cron Trigger or Deno.cron invocation gets 30 s or more; leave room to start and answer
    drain: { budgetMs: 25_000 },
  });
}
