import { afterEach, describe, expect, it } from "vitest";
import { createHandler } from "../../src/http/handler.ts";
import type { Spool } from "../../src/spool.ts";
import { openSpool } from "../support/system.ts";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function setup(): Promise<{ spool: Spool; call: (method: string, path: string) => Promise<{ status: number; body: any }> }> {
  const opened = await openSpool();
  cleanup = opened.cleanup;
  const app = createHandler(opened.spool);
  return {
    spool: opened.spool,
    call: async (method, path) => {
      const response = await app.fetch(new Request(`http://spool.test${path}`, { method }));
      return { status: response.status, body: await response.json() };
    },
  };
}

describe("schedule routes", () => {
  it("GET /schedules lists every stored schedule with its state and fire times", async () => {
    const { spool, call } = await setup();
    expect(await call("GET", "/schedules")).toEqual({ status: 200, body: { schedules: [] } });
    await spool.schedule("nightly", "0 3 * * *", { type: "report", timezone: "Europe/Berlin", payload: { full: true }, catchUp: "none" });
    const { status, body } = await call("GET", "/schedules");
    expect(status).toBe(200);
    expect(body.schedules).toEqual([
      {
        name: "nightly",
        cron: "0 3 * * *",
        timezone: "Europe/Berlin",
        type: "report",
        payload: { full: true },
        options: {},
        catchUp: "none",
        noOverlap: false,
        paused: false,
        lastFireAt: null,
        nextFireAt: expect.any(Number),
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      },
    ]);
    expect(body.schedules[0].nextFireAt).toBeGreaterThan(Date.now());
  });

  it("POST /schedules/:name/pause and /resume change the stored schedule", async () => {
    const { spool, call } = await setup();
    await spool.schedule("nightly", "0 3 * * *", { type: "report" });
    expect(await call("POST", "/schedules/nightly/pause")).toEqual({ status: 200, body: { schedule: "nightly", paused: true } });
    expect((await spool.listSchedules())[0]!.paused).toBe(true);
    expect(await call("POST", "/schedules/nightly/resume")).toEqual({ status: 200, body: { schedule: "nightly", paused: false } });
    expect((await spool.listSchedules())[0]!.paused).toBe(false);
  });

  it("answers 404 SCHEDULE_NOT_FOUND for an unknown schedule and 405 for a wrong method, changing nothing", async () => {
    const { spool, call } = await setup();
    await spool.schedule("nightly", "0 3 * * *", { type: "report" });
    for (const action of ["pause", "resume"]) {
      const { status, body } = await call("POST", `/schedules/weekly/${action}`);
      expect(status).toBe(404);
      expect(body).toEqual({ error: { code: "SCHEDULE_NOT_FOUND", message: 'no schedule is named "weekly"' } });
    }
    expect((await call("GET", "/schedules/nightly/pause")).status).toBe(405);
    expect((await spool.listSchedules()).map((s) => [s.name, s.paused])).toEqual([["nightly", false]]);
  });
});
