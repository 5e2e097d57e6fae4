import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Job } from "../../src/core/job.ts";
import { JOB_STATUSES } from "../../src/core/states.ts";
import { type Spool, createSpool } from "../../src/index.ts";
import { ROOT, type RunningProcess, currentRuntime, freePort, runtimeCommand, startProcess, startWorker } from "../support/processes.ts";
import { tempDatabase, waitFor } from "../support/system.ts";

const FIXTURE = join(ROOT, "test", "fixtures", "cron-jobs.mjs");
const runtime = currentRuntime();

let processes: RunningProcess[] = [];
let spool: Spool | null = null;
let cleanup: (() => void) | null = null;
afterEach(async () => {
  for (const p of processes) p.kill("SIGKILL");
  await Promise.all(processes.map((p) => p.exited));
  processes = [];
  await spool?.close();
  spool = null;
  cleanup?.();
  cleanup = null;
});

async function ticks(reader: Spool): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const status of JOB_STATUSES) {
    let cursor: string | undefined;
    do {
      const page = await reader.listJobs({ status, type: "tick", limit: 500, cursor });
      jobs.push(...page.jobs);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return jobs.sort((a, b) => a.scheduledFor! - b.scheduledFor!);
}

/** The fire times a process's scheduler says it enqueued (debug log lines). */
function firedBy(proc: RunningProcess): number[] {
  return proc
    .output()
    .split("\n")
    .filter((line) => line.includes('"schedule fired"'))
    .map((line) => (JSON.parse(line) as { scheduledFor: number }).scheduledFor);
}

describe(`cron across worker processes (${runtime})`, () => {
  it("three workers on one database file enqueue and run exactly one job per fire time of an every-second schedule", async () => {
    const db = tempDatabase("spool-cron-smoke-");
    cleanup = db.cleanup;
    const runLog = join(db.dir, "runs.log");
    const ports = [await freePort(), await freePort(), await freePort()];
    processes = await Promise.all(
      ports.map((port) =>
        startWorker(runtime, {
          SPOOL_DATABASE_URL: db.url,
          SPOOL_JOBS: FIXTURE,
          SPOOL_PORT: String(port),
          SPOOL_LOG_LEVEL: "debug",
          CRON_LOG: runLog,
        }),
      ),
    );
    const allReadyAt = Date.now();
    spool = await createSpool({ url: db.url });
    const reader = spool;
    // six seconds of ticks with all three schedulers running
    await waitFor(
      "six fire times run while all three workers are up",
      async () => (await ticks(reader)).filter((j) => j.scheduledFor! > allReadyAt && j.status === "completed").length >= 6,
      30_000,
    );
    for (const p of processes) p.kill("SIGTERM");
    expect(await Promise.all(processes.map((p) => p.exited))).toEqual([0, 0, 0]);

    const jobs = await ticks(reader);
    const fireTimes = jobs.map((j) => j.scheduledFor!);
    expect(fireTimes.filter((t) => t > allReadyAt).length).toBeGreaterThanOrEqual(6);
    // one job per fire time, and no fire time missing between the first and the last
    expect(new Set(fireTimes).size).toBe(fireTimes.length);
    for (let i = 1; i < fireTimes.length; i++) expect(fireTimes[i]! - fireTimes[i - 1]!).toBe(1000);
    for (const job of jobs) {
      expect(job.scheduleName).toBe("every_second");
      expect(job.payload).toEqual({ from: "cron-jobs.mjs" });
      // a tick fired just before shutdown may still wait for the next worker
      expect(["completed", "pending"]).toContain(job.status);
    }

    // each tick was enqueued by exactly one of the three schedulers
    const fired = processes.flatMap(firedBy).sort((a, b) => a - b);
    expect(fired).toEqual(fireTimes);

    // and each completed job's handler ran once, with ctx.job.scheduledFor set to its fire time
    const ran = existsSync(runLog) ? readFileSync(runLog, "utf8").trim().split("\n").map((l) => Number(l.split(" ")[0])) : [];
    expect([...ran].sort((a, b) => a - b)).toEqual(jobs.filter((j) => j.status === "completed").map((j) => j.scheduledFor));
  });

  it("a worker whose jobs module has a bad cron expression or time zone fails at start, naming the schedule and the value", async () => {
    const db = tempDatabase("spool-cron-bad-");
    cleanup = db.cleanup;
    const [command, args] = runtimeCommand(runtime, { ts: "src/worker.ts", js: "dist/worker.js" });
    const start = async (extra: Record<string, string>) =>
      startProcess(command, args, {
        env: { SPOOL_DATABASE_URL: db.url, SPOOL_JOBS: FIXTURE, SPOOL_PORT: String(await freePort()), ...extra },
      });
    processes = [await start({ CRON_EXPR: "every second" }), await start({ CRON_TIMEZONE: "Mars/Olympus_Mons" })];
    expect(await Promise.all(processes.map((p) => p.exited))).toEqual([1, 1]);
    const [badCron, badZone] = processes.map((p) => p.output());
    expect(badCron).toContain("INVALID_CRON");
    expect(badCron).toContain('schedule \\"every_second\\": invalid cron expression \\"every second\\"');
    expect(badZone).toContain("INVALID_CRON");
    expect(badZone).toContain('schedule \\"every_second\\": unknown time zone \\"Mars/Olympus_Mons\\"');
    expect(badCron + badZone).not.toContain("spool worker ready");
  });
});
