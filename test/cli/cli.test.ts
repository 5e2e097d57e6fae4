/**
 * The `spool` command run as a real process (dist/cli.js on Node, src/cli.ts
 * on Bun and Deno) against a real database file, with no worker running:
 * every command, its --json answer against the HTTP route's body for the same
 * question, and the exit status (0 done, 1 failed, 2 bad usage).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHandler } from "../../src/http/handler.ts";
import { createSpool } from "../../src/create-spool.ts";
import type { Spool } from "../../src/spool.ts";
import { type CliRun, runCommand, runSpool } from "../support/cli.ts";
import { enqueueJobs, finishJobs } from "../support/finished-jobs.ts";
import { ROOT, currentRuntime } from "../support/processes.ts";
import { tempDatabase } from "../support/system.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A migrated database file, a Spool on it in this process, the CLI pointed at it, and the HTTP API over the same Spool. */
async function setup() {
  const db = tempDatabase("spool-cli-");
  const spool: Spool = await createSpool({ url: db.url });
  cleanups.push(() => db.cleanup(), () => spool.close());
  const env = { SPOOL_DATABASE_URL: db.url };
  const spoolCli = (...args: string[]) => runSpool(args, env);
  const app = createHandler(spool);
  const http = async (method: string, path: string) => {
    const response = await app.fetch(new Request(`http://spool.test${path}`, { method }));
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const total = async () => Object.values(await spool.countJobs()).reduce((a, b) => a + b, 0);
  return { db, spool, env, spoolCli, http, total };
}

/** The JSON a run printed on stdout, which must be exactly one line. */
function jsonOf(run: CliRun): any {
  expect(run.stdout.endsWith("\n"), run.stdout).toBe(true);
  expect(run.stdout.trimEnd().split("\n"), run.stdout).toHaveLength(1);
  return JSON.parse(run.stdout);
}

/** A failed run: the status, and one line on stderr that matches `message`. */
function expectFailure(run: CliRun, code: 1 | 2, message: RegExp): void {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(code);
  const lines = run.stderr.trimEnd().split("\n");
  expect(lines[0], run.stderr).toMatch(message);
  // a usage error adds one line that points to the help
  expect(lines.slice(1), run.stderr).toEqual(code === 2 ? [expect.stringMatching(/^Run "spool( \w+)? --help" for usage\.$/)] : []);
}

describe(`spool CLI on ${currentRuntime()}`, () => {
  it("migrate creates the database file and its folder; every other command refuses a file that is not there", async () => {
    const db = tempDatabase("spool-cli-");
    cleanups.push(() => db.cleanup());
    const url = `file:${join(db.dir, "nested", "queue.db")}`;
    const missing = await runSpool(["stats"], { SPOOL_DATABASE_URL: url });
    expectFailure(missing, 1, /^spool stats: database file:.*queue\.db does not exist; "spool migrate" creates it$/);
    expect(existsSync(join(db.dir, "nested"))).toBe(false);

    const human = await runSpool(["migrate"], { SPOOL_DATABASE_URL: url });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^database file:.*queue\.db is at schema version \d+\n$/);
    expect(existsSync(join(db.dir, "nested", "queue.db"))).toBe(true);
    const json = jsonOf(await runSpool(["migrate", "--json"], { SPOOL_DATABASE_URL: `${url}?mode=x` }));
    expect(json).toEqual({ database: url, schemaVersion: expect.any(Number) });

    const stats = await runSpool(["stats", "--json"], { SPOOL_DATABASE_URL: url });
    expect(stats.code).toBe(0);
    expect(jsonOf(stats).counts).toEqual({ blocked: 0, scheduled: 0, pending: 0, running: 0, completed: 0, dead: 0, cancelled: 0 });
    expectFailure(await runSpool(["stats"], { SPOOL_DATABASE_URL: url, SPOOL_PORT: "nope" }), 1, /SPOOL_PORT="nope" is invalid/);
  });

  it("enqueue writes a job with its flags and prints { id, deduplicated } with --json", async () => {
    const { spool, spoolCli } = await setup();
    const first = await spoolCli("enqueue", "send_email", '{"to":"a@example.com"}', "--delay", "10s", "--priority", "high", "--key", "k1", "--queue", "mail", "--json");
    expect(first.code, first.stderr).toBe(0);
    const { id, deduplicated } = jsonOf(first);
    expect(deduplicated).toBe(false);
    const job = (await spool.getJob(id))!;
    expect(job).toMatchObject({ type: "send_email", payload: { to: "a@example.com" }, status: "scheduled", priority: 10, queue: "mail", idempotencyKey: "k1" });
    expect(job.runAt - job.createdAt).toBe(10_000);

    expect(jsonOf(await spoolCli("enqueue", "send_email", "{}", "--key", "k1", "--json"))).toEqual({ id, deduplicated: true });
    const again = await spoolCli("enqueue", "send_email", "{}", "--key", "k1");
    expect(again.stdout).toBe(`job ${id} already holds key "k1" for send_email; nothing new enqueued\n`);

    const plain = await spoolCli("enqueue", "report", "--run-at", "2031-02-03T04:05:06Z", "--priority", "-5");
    expect(plain.code).toBe(0);
    const plainId = /^enqueued job (\d+) \(report\)\n$/.exec(plain.stdout)![1]!;
    expect(await spool.getJob(plainId)).toMatchObject({ payload: null, status: "scheduled", runAt: Date.UTC(2031, 1, 3, 4, 5, 6), priority: -5 });
  });

  it("enqueue exits 2 for arguments that do not parse and 1 for values Spool refuses, writing nothing", async () => {
    const { spoolCli, total } = await setup();
    const usage: Array<[string[], RegExp]> = [
      [["enqueue", "t", "{oops"], /^spool: the payload is not valid JSON/],
      [["enqueue", "t", "--delay", "5"], /^spool: --delay "5" is not a duration/],
      [["enqueue", "t", "--priority", "urgent"], /^spool: --priority "urgent" is not a priority/],
      [["enqueue", "t", "--run-at", "tomorrow"], /^spool: --run-at "tomorrow" is not an ISO-8601 date/],
      [["enqueue", "t", "--delay", "1s", "--run-at", "2031-01-01"], /^spool: give --delay or --run-at, not both$/],
      [["enqueue"], /^spool: spool enqueue needs TYPE$/],
      [["enqueue", "t", "{}", "extra"], /^spool: unexpected argument "extra"$/],
      [["enqueue", "t", "--colour", "red"], /^spool: unknown flag --colour for spool enqueue$/],
      [["enqueue", "t", "--delay"], /^spool: --delay needs a value \(DURATION\)$/],
    ];
    const refused: Array<[string[], RegExp]> = [
      [["enqueue", "bad type!"], /^spool enqueue: job type must be 1-200 letters/],
      [["enqueue", "t", "--priority", "-2000000"], /^spool enqueue: priority must be an integer >= -1000000/],
    ];
    const runs = await Promise.all([...usage, ...refused].map(([args]) => spoolCli(...args)));
    usage.forEach(([, message], i) => expectFailure(runs[i]!, 2, message));
    refused.forEach(([, message], i) => expectFailure(runs[usage.length + i]!, 1, message));
    expect(await total()).toBe(0);
  });

  it("jobs prints a table, and with --json the same page GET /jobs answers, for every filter", async () => {
    const { spool, spoolCli, http } = await setup();
    const dead = await enqueueJobs(spool, 5, "poison", { queue: "mail" });
    await spool.enqueue("poison", { orderId: "A-7" }, { workflowId: "wf-9" });
    await enqueueJobs(spool, 2, "ok");
    await finishJobs(spool, [...dead], "dead", Date.UTC(2030, 0, 1));

    const table = await spoolCli("jobs");
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+TYPE\s+QUEUE\s+STATUS\s+ATTEMPTS\s+RUN AT\s+FINISHED\s+LAST ERROR$/);
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(new RegExp(`^${dead[0]}\\s+poison\\s+mail\\s+dead\\s+3/3\\s+.*2030-01-01 00:00:00Z\\s+boom$`));

    const questions: Array<[string[], string]> = [
      [[], "/jobs"],
      [["--status", "pending"], "/jobs?status=pending"],
      [["--status", "dead", "--limit", "2"], "/jobs?status=dead&limit=2"],
      [["--limit", "2", "--cursor", dead[1]!], `/jobs?limit=2&cursor=${dead[1]}`],
      [["--status", "pending", "--type", "ok"], "/jobs?status=pending&type=ok"],
      [["--queue", "mail", "--limit", "3"], "/jobs?queue=mail&limit=3"],
      [["--status", "pending", "--workflow", "wf-9"], "/jobs?status=pending&workflowId=wf-9"],
      [["--status", "pending", "--search", "A-7"], "/jobs?status=pending&q=A-7"],
    ];
    const runs = await Promise.all(questions.map(([args]) => spoolCli("jobs", ...args, "--json")));
    for (const [i, [args, path]] of questions.entries()) {
      expect(runs[i]!.code, runs[i]!.stderr).toBe(0);
      expect(jsonOf(runs[i]!), args.join(" ")).toEqual((await http("GET", path)).body);
    }
    expect(jsonOf(runs[2]!).nextCursor).toBe(dead[1]);
    expect((await spoolCli("jobs", "--limit", "2")).stdout).toMatch(new RegExp(`\nmore: --cursor ${dead[1]}\n$`));
    expect((await spoolCli("jobs", "--status", "cancelled")).stdout).toBe("no cancelled jobs\n");

    expectFailure(await spoolCli("jobs", "--limit", "many"), 2, /^spool: --limit "many" is not an integer$/);
    expectFailure(await spoolCli("jobs", "--limit", "0"), 1, /^spool jobs: limit must be an integer from 1 to 500/);
    expectFailure(await spoolCli("jobs", "--status", "lost"), 1, /^spool jobs: status must be one of/);
  });

  it("job ID prints the job with its history; --json is GET /jobs/:id's body, for a missing job its 404 body", async () => {
    const { spool, spoolCli, http } = await setup();
    const { id } = await spool.enqueue("send", { to: "x" }, { idempotencyKey: "once" });
    await finishJobs(spool, [id], "dead", Date.UTC(2030, 0, 1), "smtp down\n  at send (mail.ts:1)");

    const human = await spoolCli("job", id);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^job ${id}: send \\(dead\\)\n`));
    expect(human.stdout).toMatch(/\npayload\s+\{"to":"x"\}\n/);
    expect(human.stdout).toMatch(/\nfinished\s+2030-01-01 00:00:00Z\n/);
    expect(human.stdout).toMatch(/\nlast error\s+smtp down …\n/);
    expect(human.stdout).toMatch(/\nidempotency\s+once\n/);

    expect(jsonOf(await spoolCli("job", id, "--json"))).toEqual((await http("GET", `/jobs/${id}`)).body);
    const missing = await spoolCli("job", "424242", "--json");
    expectFailure(missing, 1, /^spool job: no job has id "424242"$/);
    expect(jsonOf(missing)).toEqual((await http("GET", "/jobs/424242")).body);
    expectFailure(await spoolCli("job"), 2, /^spool: spool job needs ID$/);
  });

  it("retry ID puts a dead job back in the queue, and refuses a job in another state with exit 1", async () => {
    const { spool, spoolCli } = await setup();
    const [dead, pending] = await enqueueJobs(spool, 2);
    await finishJobs(spool, [dead!], "dead", 1_000);

    const retried = await spoolCli("retry", dead!, "--json");
    expect(retried.code, retried.stderr).toBe(0);
    expect(jsonOf(retried)).toEqual({ id: dead, status: "pending" });
    expect(await spool.getJob(dead!)).toMatchObject({ status: "pending", attempts: 0 });

    const [again, wrongState, both, neither, typeWithoutDead] = await Promise.all([
      spoolCli("retry", pending!),
      spoolCli("retry", "424242", "--json"),
      spoolCli("retry", dead!, "--dead"),
      spoolCli("retry"),
      spoolCli("retry", dead!, "--type", "t"),
    ]);
    expectFailure(again, 1, new RegExp(`^spool retry: cannot retry job ${pending}: it is pending$`));
    expectFailure(wrongState, 1, /no job has id "424242"/);
    expect(jsonOf(wrongState).error.code).toBe("JOB_NOT_FOUND");
    expectFailure(both, 2, /^spool: give a job ID or --dead, not both$/);
    expectFailure(neither, 2, /^spool: give a job ID, or --dead to retry every dead job$/);
    expectFailure(typeWithoutDead, 2, /^spool: --type and --queue go with --dead$/);
  });

  it("retry --dead replays every dead job of a queue and type in batches, with progress lines on a pipe", async () => {
    const { spool, spoolCli } = await setup();
    const mail = await enqueueJobs(spool, 2_500, "send", { queue: "mail" });
    const other = await enqueueJobs(spool, 3, "bill");
    await finishJobs(spool, [...mail, ...other], "dead", 1_000);

    const run = await spoolCli("retry", "--dead", "--queue", "mail", "--type", "send", "--json");
    expect(run.code, run.stderr).toBe(0);
    expect(jsonOf(run)).toEqual({ retried: 2_500 });
    const progress = run.stderr.trimEnd().split("\n").filter((line) => line.startsWith("retrying"));
    expect(progress[0]).toMatch(/^retrying dead jobs: (1000|2000)\/2500$/);
    expect(progress[progress.length - 1]).toBe("retrying dead jobs: 2500/2500");
    expect(await spool.countJobs()).toMatchObject({ pending: 2_500, dead: 3 });

    const rest = await spoolCli("retry", "--dead");
    expect(rest.stdout).toBe("retried 3 dead jobs\n");
    expect(rest.stderr.trimEnd().split("\n").pop()).toBe("retrying dead jobs: 3/3");
  });

  it("cancel ID cancels a waiting job, and exits 1 for a finished one", async () => {
    const { spool, spoolCli } = await setup();
    const { id } = await spool.enqueue("t", {});
    expect(jsonOf(await spoolCli("cancel", id, "--json"))).toEqual({ id, status: "cancelled" });
    expect((await spool.getJob(id))!.status).toBe("cancelled");
    expectFailure(await spoolCli("cancel", id), 1, new RegExp(`^spool cancel: cannot cancel job ${id}: it is cancelled$`));
  });

  it("purge deletes the finished jobs asked for, with progress, and exits 2 or 1 for a bad request", async () => {
    const { spool, spoolCli, total } = await setup();
    const old = await enqueueJobs(spool, 1_200, "send");
    const recent = await enqueueJobs(spool, 4, "send");
    await finishJobs(spool, old, "dead", Date.now() - 3 * 3_600_000);
    await finishJobs(spool, recent, "dead", Date.now());

    const usage = await Promise.all([spoolCli("purge"), spoolCli("purge", "--status", "dead", "--older-than", "7")]);
    expectFailure(usage[0]!, 2, /^spool: purge needs --status completed, dead or cancelled$/);
    expectFailure(usage[1]!, 2, /^spool: --older-than "7" is not a duration/);
    expectFailure(await spoolCli("purge", "--status", "pending"), 1, /^spool purge: purge deletes finished jobs only/);
    expect(await total()).toBe(1_204);

    const run = await spoolCli("purge", "--status", "dead", "--older-than", "1h", "--json");
    expect(run.code, run.stderr).toBe(0);
    expect(jsonOf(run)).toEqual({ purged: 1_200 });
    expect(run.stderr.trimEnd().split("\n").pop()).toBe("purging dead jobs: 1200/1200");
    expect(await total()).toBe(4);
    expect((await spoolCli("purge", "--status", "dead", "--type", "send")).stdout).toBe("purged 4 dead jobs\n");
  });

  it("stats, queues and schedules print tables, and with --json what their routes answer", async () => {
    const { spool, spoolCli, http } = await setup();
    await spool.enqueue("send", {}, { queue: "mail", delayMs: 60_000 });
    const dead = await enqueueJobs(spool, 2, "bill");
    await finishJobs(spool, dead, "dead", 1_000);
    await spool.pauseQueue("mail");
    await spool.schedule("nightly", "0 3 * * *", { type: "report", timezone: "Europe/Berlin" });

    const [stats, statsJson, queues, queuesJson, schedules, schedulesJson] = await Promise.all([
      spoolCli("stats"),
      spoolCli("stats", "--json"),
      spoolCli("queues"),
      spoolCli("queues", "--json"),
      spoolCli("schedules"),
      spoolCli("schedules", "--json"),
    ]);
    expect(stats.stdout).toMatch(/^STATUS\s+JOBS\nblocked\s+0\nscheduled\s+1\npending\s+0\nrunning\s+0\ncompleted\s+0\ndead\s+2\ncancelled\s+0\n$/);
    const { throughput: routeMinutes, ...statsRoute } = (await http("GET", "/stats")).body as { throughput: Array<{ minute: number }>; workerId: string };
    const { throughput: cliMinutes, ...statsCli } = jsonOf(statsJson) as { throughput: Array<{ minute: number }> };
    // the worker id is each process's own; the hour shown moves on with the clock between the two reads
    expect(statsCli).toEqual({ ...statsRoute, workerId: expect.any(String) });
    expect(Object.keys(jsonOf(statsJson))).toEqual(Object.keys((await http("GET", "/stats")).body as object));
    expect(cliMinutes).toHaveLength(60);
    expect(Math.abs(cliMinutes[59]!.minute - routeMinutes[59]!.minute)).toBeLessThanOrEqual(60_000);

    expect(queues.stdout.split("\n")[0]).toMatch(/^QUEUE\s+PAUSED\s+SCHEDULED\s+PENDING\s+RUNNING\s+COMPLETED\s+DEAD\s+CANCELLED\s+OLDEST PENDING$/);
    expect(queues.stdout).toMatch(/\ndefault\s+no\s+0\s+0\s+0\s+0\s+2\s+0\s+-\nmail\s+yes\s+1\s+0\s+0\s+0\s+0\s+0\s+-\n$/);
    expect(jsonOf(queuesJson)).toEqual((await http("GET", "/queues")).body);

    expect(schedules.stdout).toMatch(/^NAME\s+CRON\s+TIMEZONE\s+TYPE\s+STATE\s+NEXT FIRE\s+LAST FIRE\nnightly\s+0 3 \* \* \*\s+Europe\/Berlin\s+report\s+active\s+\d{4}-.*Z\s+-\n$/);
    expect(jsonOf(schedulesJson)).toEqual((await http("GET", "/schedules")).body);
  });

  it("pause and resume hold and release a queue in the database", async () => {
    const { spool, spoolCli } = await setup();
    expect(jsonOf(await spoolCli("pause", "mail", "--json"))).toEqual({ queue: "mail", paused: true });
    expect((await spool.listQueues()).find((q) => q.name === "mail")!.paused).toBe(true);
    expect((await spoolCli("resume", "mail")).stdout).toBe("queue mail resumed\n");
    expect((await spool.listQueues()).find((q) => q.name === "mail")!.paused).toBe(false);
    expectFailure(await spoolCli("pause"), 2, /^spool: spool pause needs QUEUE$/);
  });

  it("workflow ID draws the workflow when Spool tracks workflows, and says it cannot otherwise", async () => {
    const { spool, spoolCli } = await setup();
    const { id } = await spool.enqueue("process_order", {}, { workflowId: "order-1" });
    const run = await spoolCli("workflow", "order-1");
    if (typeof (spool as unknown as { getWorkflow?: unknown }).getWorkflow === "function") {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^workflow order-1 .*\n(.*\n)*└─ ${id} process_order  pending`));
      expectFailure(await spoolCli("workflow", "no-such-flow"), 1, /^spool workflow: no workflow has id "no-such-flow"$/);
    } else {
      expectFailure(run, 1, /^spool workflow: this version of Spool does not track workflows$/);
    }
  });

  it("prints help for the program and for every command with exit 0, and exits 2 for a missing or unknown command", async () => {
    const { spoolCli } = await setup();
    const names = ["migrate", "enqueue", "jobs", "job", "retry", "cancel", "purge", "stats", "queues", "schedules", "pause", "resume", "workflow"];
    const [overview, helpWord, none, unknown, flagFirst, unknownTopic, ...perCommand] = await Promise.all([
      spoolCli("--help"),
      spoolCli("help", "purge"),
      spoolCli(),
      spoolCli("frobnicate"),
      spoolCli("--json", "jobs"),
      spoolCli("help", "frobnicate"),
      ...names.map((name) => spoolCli(name, "--help")),
    ]);
    expect(overview.code).toBe(0);
    for (const name of names) expect(overview.stdout).toMatch(new RegExp(`\n  ${name}\\b`));
    expect(overview.stdout).toMatch(/Exit status: 0 done, 1 the operation failed, 2 bad usage\./);
    expect(helpWord.code).toBe(0);
    expect(helpWord.stdout).toMatch(/^Usage: spool purge --status S \[options\]\n/);
    expect(helpWord.stdout).toMatch(/\n {2}--older-than DURATION {2}only jobs that finished at least this long ago/);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^spool: operate a Spool job queue/);
    expectFailure(unknown, 2, /^spool: unknown command "frobnicate"$/);
    expectFailure(flagFirst, 2, /^spool: expected a command first, got --json$/);
    expectFailure(unknownTopic, 2, /^spool: unknown command "frobnicate"$/);
    perCommand.forEach((run, i) => {
      expect(run.code, names[i]).toBe(0);
      expect(run.stdout, names[i]).toMatch(new RegExp(`^Usage: spool ${names[i]}\\b`));
      expect(run.stdout, names[i]).toMatch(/\n {2}--json {2,}print the answer as the HTTP API would, as JSON\n/);
    });
  });
});

describe("the spool command's entry points", () => {
  const BIN = join(ROOT, "node_modules", ".bin");
  const ENTRIES: Record<string, [string, string[]]> = {
    "dist/cli.js (its shebang)": [join(ROOT, "dist", "cli.js"), []],
    "bun src/cli.ts": [join(BIN, "bun"), ["src/cli.ts"]],
    "bun run spool": [join(BIN, "bun"), ["run", "spool"]],
    "deno task spool": [join(BIN, "deno"), ["task", "spool"]],
  };
  it.each(Object.keys(ENTRIES))("%s answers stats --json against the worker's database", async (name) => {
    const db = tempDatabase("spool-cli-");
    cleanups.push(() => db.cleanup());
    const [command, args] = ENTRIES[name]!;
    const migrated = await runCommand(command, [...args, "migrate"], { SPOOL_DATABASE_URL: db.url });
    expect(migrated.code, migrated.stderr).toBe(0);
    const run = await runCommand(command, [...args, "stats", "--json"], { SPOOL_DATABASE_URL: db.url });
    expect(run.code, run.stderr).toBe(0);
    expect(jsonOf(run).counts.pending).toBe(0);
  });
});
