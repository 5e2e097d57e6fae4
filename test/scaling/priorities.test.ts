import { afterEach, describe, expect, it } from "vitest";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import { PRIORITY } from "../../src/core/options.ts";
import type { Spool } from "../../src/spool.ts";
import { settableClock } from "../support/services.ts";
import { openSpool, waitFor } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(clock: Clock = systemClock) {
  const opened = await openSpool({ clock });
  cleanups.push(opened.cleanup);
  const order: string[] = [];
  opened.spool.define("step", (payload: { name: string }) => {
    order.push(payload.name);
  });
  const run = async (count: number) => {
    const worker = await opened.spool.start({ concurrency: 1, http: false });
    cleanups.push(() => worker.stop({ graceMs: 0 }));
    await waitFor("all ran", () => order.length === count);
  };
  return { spool: opened.spool, order, run };
}

const enqueue = (spool: Spool, name: string, options: Parameters<Spool["enqueue"]>[2] = {}) => spool.enqueue("step", { name }, options);

describe("priorities", () => {
  it("run higher priority first, then earlier run time, then earlier enqueue", async () => {
    const { spool, order, run } = await setup();
    await enqueue(spool, "normal-1");
    await enqueue(spool, "low", { priority: PRIORITY.LOW });
    await enqueue(spool, "critical", { priority: PRIORITY.CRITICAL });
    await enqueue(spool, "normal-2");
    await enqueue(spool, "high", { priority: PRIORITY.HIGH });
    await enqueue(spool, "between", { priority: 15 });
    await run(6);
    expect(order).toEqual(["critical", "between", "high", "normal-1", "normal-2", "low"]);
    expect(PRIORITY).toEqual({ CRITICAL: 20, HIGH: 10, NORMAL: 0, LOW: -10 });
  });

  it("take the type's priority as the default", async () => {
    const { spool, order, run } = await setup();
    spool.define("urgent", (payload: { name: string }) => void order.push(payload.name), { priority: PRIORITY.HIGH });
    await enqueue(spool, "plain");
    await spool.enqueue("urgent", { name: "urgent" });
    await run(2);
    expect(order).toEqual(["urgent", "plain"]);
  });

  it("raise a waiting job one level per aging period so low priority is not starved", async () => {
    const clock = settableClock();
    const { spool, order, run } = await setup(clock);
    await spool.setQueueAging("default", 100);
    await enqueue(spool, "old-low", { priority: PRIORITY.LOW });
    clock.t += 350;
    await enqueue(spool, "new-high", { priority: PRIORITY.HIGH });
    // three periods waited: LOW (-10) + 3 levels = 20, above HIGH (10)
    await storeOf(spool).ageWaitingJobs(clock.t);
    await run(2);
    expect(order).toEqual(["old-low", "new-high"]);
    // the stored priority stays what the user set
    const jobs = (await spool.listJobs({ status: "completed" })).jobs;
    expect(jobs.find((j) => (j.payload as { name: string }).name === "old-low")!.priority).toBe(PRIORITY.LOW);
  });

  it("leave priority order alone in a queue without aging", async () => {
    const clock = settableClock();
    const { spool, order, run } = await setup(clock);
    await enqueue(spool, "old-low", { priority: PRIORITY.LOW });
    clock.t += 250;
    await enqueue(spool, "new-high", { priority: PRIORITY.HIGH });
    await storeOf(spool).ageWaitingJobs(clock.t);
    await run(2);
    expect(order).toEqual(["new-high", "old-low"]);
  });
});
