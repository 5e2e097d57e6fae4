// The jobs module of the edge example: the same shape a long-running worker
// hosts with SPOOL_JOBS, so one module runs either way.
import { PermanentError, defineWorker } from "spool/web";

export default defineWorker({
  jobs: {
    send_welcome: {
      // a drain starts a job only when its timeout fits in what is left of the budget
      timeoutMs: 10_000,
      maxAttempts: 5,
      handler: async (payload: { email: string }, ctx) => {
        if (!payload.email.includes("@")) throw new PermanentError(`bad address ${payload.email}`);
        const response = await fetch("https://mail.example/send", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ to: payload.email, template: "welcome" }),
          signal: ctx.signal,
        });
        if (!response.ok) throw new Error(`mail service answered ${response.status}`);
        ctx.enqueue("log_signup", { email: payload.email });
      },
    },
    log_signup: {
      timeoutMs: 5_000,
      handler: (payload: { email: string }) => {
        console.log(JSON.stringify({ msg: "signed up", email: payload.email }));
      },
    },
    daily_digest: {
      timeoutMs: 20_000,
      handler: async (_payload, ctx) => {
        console.log(JSON.stringify({ msg: "daily digest", for: ctx.job.scheduledFor }));
      },
    },
  },
  schedules: {
    daily_digest: { cron: "0 7 * * *", timezone: "Europe/Berlin", type: "daily_digest" },
  },
});
