/**
 * The jobs module the dashboard's browser test hosts, in plain JavaScript:
 * Node runs the built worker (dist/worker.js), which cannot import TypeScript.
 *
 * - `greet` completes with a greeting.
 * - `charge` dies on its first run for an order (one attempt, "card declined")
 *   and completes when it is run again, so a retry from the page can succeed.
 * - `mail` completes; the test puts it in its own queue to pause.
 * - `wf_start` fans out to `wf_left` and `wf_right`, which `wf_join` waits for.
 */
const declined = new Set();

export default {
  jobs: {
    greet: { handler: async (payload) => ({ greeting: `hello ${payload.name}` }) },
    charge: {
      maxAttempts: 1,
      handler: async (payload) => {
        if (!declined.has(payload.orderId)) {
          declined.add(payload.orderId);
          throw new Error(`card declined for order ${payload.orderId}`);
        }
        return { charged: payload.orderId };
      },
    },
    mail: { handler: async (payload) => ({ sent: payload.to }) },
    wf_start: {
      handler: async (payload, ctx) => {
        const left = ctx.enqueue("wf_left", { side: "left" });
        const right = ctx.enqueue("wf_right", { side: "right" });
        ctx.enqueue("wf_join", {}, { after: [left, right] });
        return { started: payload.name ?? null };
      },
    },
    wf_left: { handler: async (payload) => ({ side: payload.side }) },
    wf_right: { handler: async (payload) => ({ side: payload.side }) },
    wf_join: { handler: async () => ({ joined: true }) },
  },
  schedules: {
    nightly_greeting: { cron: "0 3 * * *", timezone: "Europe/Berlin", type: "greet", payload: { name: "night shift" } },
  },
};
