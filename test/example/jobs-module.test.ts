/**
 * The bundled jobs module as the worker loads it: its one setting comes
 * from the environment, and a bad value stops the worker at startup.
 */
import { afterEach, describe, expect, it } from "vitest";
import { currentRuntime, freePort, runtimeCommand, startProcess } from "../support/processes.ts";
import { tempDatabase } from "../support/system.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe("the bundled order pipeline in the worker", () => {
  it("stops the worker at startup on a bad SPOOL_EXAMPLE_MAIL_FAILURE_RATE, naming it", async () => {
    const db = tempDatabase();
    cleanups.push(db.cleanup);
    const [command, args] = runtimeCommand(currentRuntime(), { ts: "src/worker.ts", js: "dist/worker.js" });
    const worker = startProcess(command, args, {
      env: { SPOOL_DATABASE_URL: db.url, SPOOL_PORT: String(await freePort()), SPOOL_EXAMPLE_MAIL_FAILURE_RATE: "often" },
    });
    cleanups.unshift(() => worker.kill("SIGKILL"));
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain('SPOOL_EXAMPLE_MAIL_FAILURE_RATE must be a number from 0 to 1, got \\"often\\"');
    expect(worker.output()).toContain("INVALID_CONFIG");
    expect(worker.output()).not.toContain("spool worker ready");
  });
});
