// Deno Deploy: Deno.serve answers the API (enqueue with POST /jobs), and
// Deno.cron drains once a minute. From a clone of this repository, against a
// local libSQL server (sqld on port 8080), run
//   deno run -A --unstable-cron --config examples/edge/deno.json examples/edge/deno.ts
// (the config maps spool/web to the source; an app imports the package).
import { openHandler } from "./app.ts";

// Opened once per isolate, on first use; Deno.cron must be declared at the
// top level, so the handler is awaited inside the callbacks.
const handler = openHandler({
  SPOOL_DATABASE_URL: Deno.env.get("SPOOL_DATABASE_URL") ?? "http://127.0.0.1:8080",
  SPOOL_AUTH_TOKEN: Deno.env.get("SPOOL_AUTH_TOKEN"),
  SPOOL_API_TOKEN: Deno.env.get("SPOOL_API_TOKEN"),
  SPOOL_TRIGGER_SECRET: Deno.env.get("SPOOL_TRIGGER_SECRET"),
  SPOOL_TRIGGER_SECRET_NEXT: Deno.env.get("SPOOL_TRIGGER_SECRET_NEXT"),
});

Deno.cron("spool drain", "* * * * *", async () => {
  const summary = await (await handler).scheduled();
  console.log(JSON.stringify({ msg: "drained", ...summary }));
});

Deno.serve(async (request) => (await handler).fetch(request));
