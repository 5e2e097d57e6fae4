// The order pipeline end to end, in one command: a worker process on a fresh
// temporary database, N orders over HTTP (express, declined, flaky,
// double-submitted and out-of-stock ones mixed in), progress while they
// flow, then a summary and the checks. Exit 0 when every check holds, 1
// otherwise.
//
//   npm run demo [-- --orders N] [--keep] [--json]    (worker on Node, from dist/, built first when stale)
//   bun run demo [...]                                 (worker on Bun)
//   deno task demo [...]                               (worker on Deno)
//
// --orders N  how many orders (default 200)
// --keep      leave the worker running afterwards and print its URL; Ctrl-C ends it
// --json      also print the summary as one JSON object, the last line on stdout
// --runtime   node | bun | deno: run the worker on that runtime instead
// --mail-failure-rate R   share of confirmation emails the simulated mailer fails (0..1, default 0.05)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const BIN = join(ROOT, "node_modules", ".bin");
const FINAL = ["ready_to_ship", "payment_declined", "failed", "cancelled"];
const UNFINISHED_JOBS = ["blocked", "scheduled", "pending", "running"];
const TIME_LIMIT_MS = 120_000;
const SUBMITTING_AT_ONCE = 8;

function parseArgs(argv) {
  const options = { orders: 200, keep: false, json: false, runtime: null, mailFailureRate: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--keep") options.keep = true;
    else if (arg === "--json") options.json = true;
    else if (arg === "--mail-failure-rate") {
      const value = argv[++i];
      options.mailFailureRate = Number(value);
      if (value === undefined || !(options.mailFailureRate >= 0 && options.mailFailureRate <= 1)) fail(`--mail-failure-rate must be a number from 0 to 1, got ${value}`);
    } else if (arg === "--orders" || arg === "--runtime") {
      const value = argv[++i];
      if (value === undefined) fail(`${arg} needs a value`);
      if (arg === "--orders") {
        options.orders = Number(value);
        if (!Number.isInteger(options.orders) || options.orders < 1 || options.orders > 100_000) fail(`--orders must be a whole number from 1 to 100000, got ${value}`);
      } else {
        if (!["node", "bun", "deno"].includes(value)) fail(`--runtime must be node, bun or deno, got ${value}`);
        options.runtime = value;
      }
    } else fail(`unknown argument ${arg} (try --orders N, --keep, --json, --runtime node|bun|deno, --mail-failure-rate R)`);
  }
  return options;
}

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(2);
}

/** The runtime the worker runs on: the one running this script; under `bun run` (which starts node), Bun. */
function defaultRuntime() {
  if (globalThis.Deno) return "deno";
  if (globalThis.Bun) return "bun";
  return (process.env.npm_config_user_agent ?? "").startsWith("bun/") ? "bun" : "node";
}

function workerCommand(runtime) {
  switch (runtime) {
    case "node":
      return [globalThis.Deno || globalThis.Bun ? "node" : process.execPath, [join(ROOT, "dist", "worker.js")]];
    case "bun":
      return [globalThis.Bun ? process.execPath : join(BIN, "bun"), [join(ROOT, "src", "worker.ts")]];
    case "deno":
      return [globalThis.Deno ? globalThis.Deno.execPath() : join(BIN, "deno"), ["run", "-A", join(ROOT, "src", "worker.ts")]];
  }
}

function newestIn(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestIn(path) : stat.mtimeMs);
  }
  return newest;
}

/** Node runs the built worker: build it when dist/ is missing or older than src/. */
function buildIfStale(say) {
  const built = join(ROOT, "dist", "worker.js");
  if (existsSync(built) && statSync(built).mtimeMs >= newestIn(join(ROOT, "src"))) return;
  say("building dist/ for Node (tsc) ...");
  const result = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
  if (result.status !== 0) fail("the build failed");
}

/** Starts the worker and resolves with its URL once it logs that it is ready. */
function startWorker(runtime, databaseUrl, mailFailureRate) {
  const [command, args] = workerCommand(runtime);
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      // the worker hosts the bundled pipeline, open on loopback, whatever SPOOL_* this shell has set
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SPOOL_"))),
      ...(mailFailureRate === null ? {} : { SPOOL_EXAMPLE_MAIL_FAILURE_RATE: String(mailFailureRate) }),
      SPOOL_DATABASE_URL: databaseUrl, SPOOL_PORT: "0", SPOOL_HOSTNAME: "127.0.0.1", SPOOL_LOG_LEVEL: "info", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const ready = new Promise((resolveReady, reject) => {
    let buffered = "";
    const onData = (chunk) => {
      log += chunk;
      if (log.length > 200_000) log = log.slice(-100_000);
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line.includes("spool worker ready")) continue;
        try {
          resolveReady(JSON.parse(line).url);
        } catch {
          // not our JSON line
        }
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    child.on("exit", (code, signal) => reject(new Error(`the worker exited (${code ?? signal}) before it was ready:\n${log.slice(-4000)}`)));
    setTimeout(() => reject(new Error(`the worker was not ready after 60 s:\n${log.slice(-4000)}`)), 60_000).unref?.();
  });
  const exited = new Promise((r) => child.on("exit", (code, signal) => r(code ?? signal)));
  // however this script ends, it does not leave its worker behind
  process.on("exit", () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, ready, exited, log: () => log };
}

/** Order number i of the run: which kinds it is decided by its number, so runs compare. */
function orderFor(i) {
  const kind = i % 10 === 3 ? "declined" : i % 10 === 5 ? "flaky" : i % 25 === 7 ? "out_of_stock" : "good";
  const express = i % 10 === 1;
  const items = [{ sku: ["mug", "tshirt", "poster"][i % 3], qty: 1 + (i % 3) }, { sku: "sticker", qty: 1 }];
  if (kind === "out_of_stock") items.push({ sku: "vinyl-first-press", qty: 1 });
  const token = kind === "declined" ? `decline_${i}` : kind === "flaky" ? `flaky_${i}` : `tok_${i}`;
  return {
    kind,
    express,
    double: i % 20 === 9,
    body: { clientOrderId: `demo-${i}`, items, paymentToken: token, email: `customer${i}@example.com`, ...(express ? { express: true } : {}) },
  };
}

async function api(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  if (response.status >= 400) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Runs `task` over `items` with at most `limit` at once. */
async function eachLimited(items, limit, task) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// With a handful of orders the queue never backs up, and which order wins is noise.
const EXPRESS_CHECK_MIN = 5;

function expressCheck(good, expressMean, standardMean) {
  const name = "express orders were notified sooner on average";
  const express = good.filter((o) => o.express).length;
  if (express < EXPRESS_CHECK_MIN || good.length - express < EXPRESS_CHECK_MIN) {
    return { name, ok: true, skipped: true, detail: `not measured: needs ${EXPRESS_CHECK_MIN} express and ${EXPRESS_CHECK_MIN} other good orders (try --orders 100)` };
  }
  return { name, ok: expressMean < standardMean, detail: `express ${expressMean} ms, others ${standardMean} ms on average` };
}

const mean = (xs) => (xs.length === 0 ? null : Math.round(xs.reduce((a, b) => a + b, 0) / xs.length));

function progressReporter(total, tty) {
  let lastLine = "";
  let lastAt = 0;
  return {
    update(finished, byStatus, force = false) {
      const parts = FINAL.map((s) => `${s} ${byStatus[s] ?? 0}`).join(", ");
      if (tty) {
        const width = 30;
        const filled = Math.round((finished / total) * width);
        const bar = `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${finished}/${total} orders finished (${parts})   `;
        if (bar !== lastLine) process.stdout.write(bar);
        lastLine = bar;
        return;
      }
      const line = `progress: ${finished}/${total} orders finished (${parts})`;
      const now = Date.now();
      if (line !== lastLine && (force || now - lastAt >= 1000)) {
        console.log(line);
        lastLine = line;
        lastAt = now;
      }
    },
    done() {
      if (tty) process.stdout.write("\n");
    },
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const runtime = options.runtime ?? defaultRuntime();
  const say = (line) => console.log(line);
  const started = Date.now();
  if (runtime === "node") buildIfStale(say);

  const dir = mkdtempSync(join(tmpdir(), "spool-demo-"));
  const databaseUrl = `file:${join(dir, "spool.db")}`;
  say(`starting a worker on ${runtime} with a fresh database in ${dir}`);
  const worker = startWorker(runtime, databaseUrl, options.mailFailureRate);
  const stop = async () => {
    worker.child.kill("SIGTERM");
    await worker.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  let base;
  try {
    base = String(await worker.ready).replace(/\/+$/, "");
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    worker.child.kill("SIGKILL");
    fail(error.message);
  }
  say(`worker ready at ${base}; submitting ${options.orders} orders`);
  try {
    await run(options, runtime, base, worker, dir, stop, say, started);
  } catch (error) {
    console.error(`demo: ${error.message}\nworker log (last lines):\n${worker.log().split("\n").slice(-20).join("\n")}`);
    await stop();
    process.exit(1);
  }
}

async function run(options, runtime, base, worker, dir, stop, say, started) {

  // submit: every order once, the double-submitted ones twice at the same moment
  const planned = Array.from({ length: options.orders }, (_, i) => orderFor(i));
  const placed = new Map();
  const doubleSubmits = [];
  const submitStarted = Date.now();
  await eachLimited(planned, SUBMITTING_AT_ONCE, async (order) => {
    if (!order.double) {
      placed.set(order.body.clientOrderId, { ...order, answer: await api(base, "POST", "/orders", order.body) });
      return;
    }
    const [a, b] = await Promise.all([api(base, "POST", "/orders", order.body), api(base, "POST", "/orders", order.body)]);
    placed.set(order.body.clientOrderId, { ...order, answer: a.deduplicated ? b : a });
    doubleSubmits.push({ clientOrderId: order.body.clientOrderId, sameOrder: a.id === b.id && a.workflowId === b.workflowId, deduplicated: [a, b].filter((x) => x.deduplicated).length });
  });
  const submitMs = Date.now() - submitStarted;
  say(`submitted ${options.orders} orders (${doubleSubmits.length} of them twice) in ${(submitMs / 1000).toFixed(1)} s`);

  // wait for every order to reach a final status and every job to finish
  const progress = progressReporter(options.orders, Boolean(process.stdout.isTTY) && !options.json);
  const deadline = Date.now() + TIME_LIMIT_MS;
  let orderStats;
  let jobStats;
  let inTime = false;
  for (;;) {
    orderStats = await api(base, "GET", "/orders/stats");
    jobStats = await api(base, "GET", "/stats");
    const finished = FINAL.reduce((sum, s) => sum + (orderStats.orders[s] ?? 0), 0);
    const unfinishedJobs = UNFINISHED_JOBS.reduce((sum, s) => sum + (jobStats.counts[s] ?? 0), 0);
    progress.update(finished, orderStats.orders);
    if (finished === options.orders && unfinishedJobs === 0) {
      progress.update(finished, orderStats.orders, true);
      inTime = true;
      break;
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  progress.done();
  const flowMs = Date.now() - submitStarted;

  // read every order with its workflow
  const shown = new Map();
  await eachLimited([...placed.values()], SUBMITTING_AT_ONCE, async (order) => {
    shown.set(order.body.clientOrderId, await api(base, "GET", `/orders/${order.answer.id}`));
  });
  const all = [...placed.values()].map((order) => ({ ...order, shown: shown.get(order.body.clientOrderId) }));
  const good = all.filter((o) => o.kind === "good" || o.kind === "flaky");
  const declined = all.filter((o) => o.kind === "declined");
  const latency = (o) => (o.shown.shippedAt === null ? null : o.shown.shippedAt - o.shown.createdAt);
  const shipped = good.map(latency).filter((x) => x !== null).sort((a, b) => a - b);
  const expressMean = mean(good.filter((o) => o.express).map(latency).filter((x) => x !== null));
  const standardMean = mean(good.filter((o) => !o.express).map(latency).filter((x) => x !== null));
  const steps = all.flatMap((o) => o.shown.workflow?.steps ?? []);
  const retries = steps.reduce((sum, s) => sum + Math.max(0, s.attempts - 1), 0);
  const workflows = {};
  for (const o of all) workflows[o.shown.workflow?.status ?? "none"] = (workflows[o.shown.workflow?.status ?? "none"] ?? 0) + 1;

  const notShipped = good.filter((o) => o.shown.status !== "ready_to_ship");
  const wronglyShipped = all.filter((o) => !good.includes(o) && o.shown.shippedAt !== null);
  const declinedWrong = declined.filter((o) => o.shown.status !== "payment_declined" || (o.shown.workflow?.steps ?? []).some((s) => s.type !== "process_order"));
  const checks = [
    { name: "every order finished in time", ok: inTime, detail: inTime ? `${(flowMs / 1000).toFixed(1)} s` : `not within ${TIME_LIMIT_MS / 1000} s` },
    {
      name: "every good order reached ready_to_ship and the warehouse exactly once",
      ok: notShipped.length === 0 && wronglyShipped.length === 0 && orderStats.warehouse.duplicates.length === 0 && orderStats.warehouse.notifications === good.length,
      detail: `${good.length - notShipped.length}/${good.length} shipped, ${orderStats.warehouse.notifications} notifications, ${orderStats.warehouse.duplicates.length} duplicated` +
        (notShipped.length ? `; not shipped: ${notShipped.slice(0, 5).map((o) => `${o.body.clientOrderId} (${o.shown.status})`).join(", ")}` : ""),
    },
    {
      name: "every declined order stopped at payment_declined with nothing downstream",
      ok: declinedWrong.length === 0,
      detail: `${declined.length - declinedWrong.length}/${declined.length}` + (declinedWrong.length ? `; wrong: ${declinedWrong.slice(0, 5).map((o) => o.body.clientOrderId).join(", ")}` : ""),
    },
    {
      name: "no order was charged twice",
      ok: orderStats.charges.doubleCharged.length === 0,
      detail: `${orderStats.charges.captured} charges, ${orderStats.charges.doubleCharged.length} orders charged twice`,
    },
    {
      name: "a double submit returned the same order",
      ok: doubleSubmits.every((d) => d.sameOrder && d.deduplicated === 1),
      detail: `${doubleSubmits.filter((d) => d.sameOrder && d.deduplicated === 1).length}/${doubleSubmits.length}`,
    },
    expressCheck(good, expressMean, standardMean),
  ];
  const summary = {
    ok: checks.every((c) => c.ok),
    runtime,
    orders: options.orders,
    doubleSubmitted: doubleSubmits.length,
    ordersByStatus: orderStats.orders,
    workflowsByStatus: workflows,
    jobsByStatus: jobStats.counts,
    retries,
    deadLetters: jobStats.counts.dead ?? 0,
    emailsSent: orderStats.emails.sent,
    charges: orderStats.charges.captured,
    warehouseNotifications: orderStats.warehouse.notifications,
    orderToWarehouseMs: { p50: percentile(shipped, 50), p99: percentile(shipped, 99), expressMean, othersMean: standardMean },
    seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
    checks,
  };

  const pad = (s, n) => String(s).padEnd(n);
  say("");
  say(`orders by status:  ${Object.entries(summary.ordersByStatus).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(", ")}`);
  say(`workflows:         ${Object.entries(workflows).map(([s, n]) => `${s} ${n}`).join(", ")}`);
  say(`jobs by status:    ${Object.entries(summary.jobsByStatus).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(", ")}`);
  say(`retries:           ${retries}`);
  say(`dead letters:      ${summary.deadLetters}  (declined payments and out-of-stock syncs end there)`);
  say(`emails sent:       ${summary.emailsSent}  (the simulated mailer fails some; they are warnings, not failures)`);
  say(`order -> warehouse: p50 ${summary.orderToWarehouseMs.p50} ms, p99 ${summary.orderToWarehouseMs.p99} ms`);
  say("");
  say("checks:");
  for (const c of checks) say(`  ${c.skipped ? "SKIP" : c.ok ? "PASS" : "FAIL"}  ${pad(c.name, 72)} ${c.detail}`);
  say(summary.ok ? "all checks passed" : "some checks FAILED");
  if (!summary.ok) say(`worker log (last lines):\n${worker.log().split("\n").slice(-20).join("\n")}`);

  if (options.keep) {
    say("");
    const home = await fetch(`${base}/`).catch(() => null);
    const dashboard = home?.ok && (home.headers.get("content-type") ?? "").includes("text/html");
    await home?.body?.cancel();
    say(`the worker keeps running at ${base}/${dashboard ? " (the dashboard is there)" : ""}: try ${base}/orders/${all[0].answer.id}, ${base}/stats, ${base}/workflows`);
    say(`Ctrl-C stops it and deletes ${dir}`);
    if (options.json) console.log(JSON.stringify(summary));
    await new Promise((r) => {
      process.once("SIGINT", r);
      process.once("SIGTERM", r);
    });
    await stop();
    process.exit(summary.ok ? 0 : 1);
  }
  await stop();
  if (options.json) console.log(JSON.stringify(summary));
  process.exit(summary.ok ? 0 : 1);
}

await main();
