#!/usr/bin/env node
/**
 * The `spool` command: `node dist/cli.js`, `bun src/cli.ts` or `deno task
 * spool`, installed as the package's `spool` bin. Everything it does is in
 * src/cli/; this file hands it the process.
 */
import { runCli } from "./cli/main.ts";
import { systemClock } from "./core/clock.ts";
import { ensureDatabaseFolder } from "./runtime/files.ts";
import { exitProcess, readEnvironment } from "./runtime/host.ts";
import { commandArguments, isTerminal, terminalColumns, writeOutput } from "./runtime/terminal.ts";

const writes: Array<Promise<void>> = [];
let code: number;
try {
  code = await runCli(commandArguments(), {
    env: readEnvironment(),
    stdout: (text) => void writes.push(writeOutput("stdout", text)),
    stderr: (text) => void writes.push(writeOutput("stderr", text)),
    stderrIsTerminal: isTerminal("stderr"),
    columns: terminalColumns("stderr"),
    now: systemClock.now,
    ensureDatabaseFolder,
  });
} catch (error) {
  writes.push(writeOutput("stderr", `spool: ${(error as Error)?.message ?? String(error)}\n`));
  code = 1;
}
// a closed pipe (spool jobs | head) must not turn a finished command into a failure
await Promise.allSettled(writes);
exitProcess(code);
