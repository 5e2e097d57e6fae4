// Cloudflare Workers: `fetch` answers the API, a Cron Trigger (wrangler.toml)
// calls `scheduled`, which drains and keeps the invocation alive with
// ctx.waitUntil. Workers allow no I/O outside a request, so the Spool opens
// on the first invocation instead of at module load; where startup I/O is
// allowed (Deno, Bun, Node), `export default createHandler(spool, ...)` is the
// whole entry.
import type { Handler, WaitUntilContext } from "spool/web";
import { type EdgeEnv, openHandler } from "./app.ts";

let opened: Promise<Handler> | undefined;

function handlerFor(env: EdgeEnv): Promise<Handler> {
  opened ??= openHandler(env).catch((error: unknown) => {
    // the next invocation tries again instead of keeping the failure
    opened = undefined;
    throw error;
  });
  return opened;
}

export default {
  async fetch(request: Request, env: EdgeEnv): Promise<Response> {
    return (await handlerFor(env)).fetch(request);
  },

  async scheduled(controller: unknown, env: EdgeEnv, ctx: WaitUntilContext): Promise<void> {
    ctx.waitUntil(handlerFor(env).then((handler) => handler.scheduled(controller)));
  },
};
