/**
 * The `spool` command line: reads the command and its arguments, opens the
 * database named by the worker's SPOOL_* environment, runs the command and
 * returns the exit status: 0 done, 1 the operation failed (a one-line
 * message says why), 2 bad usage.
 */
import { loadConfig } from "../config.ts";
import { SpoolError } from "../core/errors.ts";
import { fileIdentity } from "../runtime/files.ts";
import type { Spool } from "../spool.ts";
import { filePath } from "../store/file-path.ts";
import { type FlagSpec, UsageError, parseArgs } from "./args.ts";
import { COMMANDS, type Command, CommandFailure, type RunContext } from "./commands.ts";
import { progressDisplay } from "./progress.ts";

/** What the command line needs of its process; src/cli.ts fills it in from the runtime. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stderr is a terminal: progress is drawn as a bar, else written as lines. */
  stderrIsTerminal: boolean;
  /** The terminal's width, when stderr is one. */
  columns: number | null;
  now(): number;
  /** Creates the folder a new database file goes in. */
  ensureDatabaseFolder(url: string): Promise<void>;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const COMMON_FLAGS: FlagSpec[] = [
  { name: "json", help: "print the answer as the HTTP API would, as JSON" },
  { name: "help", help: "show this help" },
];

const byName = new Map(COMMANDS.map((command) => [command.name, command]));

/** The overview `spool --help` prints. */
export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.synopsis}`.trim().length));
  return [
    "spool: operate a Spool job queue from the command line",
    "",
    "Usage: spool COMMAND [ARGUMENTS] [--json] [--help]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.synopsis}`.trim().padEnd(width)}  ${c.summary}`),
    "",
    "The database is the worker's: SPOOL_DATABASE_URL (default file:./data/spool.db)",
    "and SPOOL_AUTH_TOKEN for a libSQL server. No worker needs to be running.",
    "--json prints what the matching HTTP route answers. Durations: 500ms, 10s, 5m, 2h, 7d.",
    "Exit status: 0 done, 1 the operation failed, 2 bad usage.",
    "",
  ].join("\n");
}

/** What `spool COMMAND --help` prints. */
export function commandHelp(command: Command): string {
  const flags = [...command.flags, ...COMMON_FLAGS];
  const labels = flags.map((f) => `--${f.name}${f.value ? ` ${f.value}` : ""}`);
  const width = Math.max(...labels.map((l) => l.length));
  return [
    `Usage: spool ${command.name}${command.synopsis ? ` ${command.synopsis}` : ""} [options]`,
    "",
    `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`,
    ...(command.details ? [command.details] : []),
    "",
    "Options:",
    ...flags.map((f, i) => `  ${labels[i]!.padEnd(width)}  ${f.help}`),
    "",
  ].join("\n");
}

function databaseLabel(url: string): string {
  return url.replace(/[?#].*$/, "");
}

/** Runs one command line (the words after `spool`) and returns its exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr(overview());
    return EXIT_USAGE;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = rest[0] === undefined ? undefined : byName.get(rest[0]);
    if (rest[0] !== undefined && !topic) return usageFailure(io, `unknown command ${JSON.stringify(rest[0])}`, null);
    io.stdout(topic ? commandHelp(topic) : overview());
    return EXIT_OK;
  }
  const command = byName.get(name);
  if (!command) {
    const message = name.startsWith("-") ? `expected a command first, got ${name}` : `unknown command ${JSON.stringify(name)}`;
    return usageFailure(io, message, null);
  }
  const dashDash = rest.indexOf("--");
  const flagWords = dashDash < 0 ? rest : rest.slice(0, dashDash);
  if (flagWords.includes("--help") || flagWords.includes("-h")) {
    io.stdout(commandHelp(command));
    return EXIT_OK;
  }
  let json = false;
  let work: (context: RunContext) => Promise<void>;
  try {
    const parsed = parseArgs(rest, [...command.flags, ...COMMON_FLAGS], `spool ${command.name}`);
    json = parsed.flags.has("json");
    const { min, max } = command.positionals;
    if (parsed.positionals.length < min) {
      throw new UsageError(`spool ${command.name} needs ${command.synopsis.split(" ")[parsed.positionals.length] ?? "more arguments"}`);
    }
    if (parsed.positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
    work = command.prepare(parsed);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(io, error.message, command);
    throw error;
  }
  let spool: Spool | null = null;
  try {
    const config = loadConfig(io.env);
    const database = databaseLabel(config.databaseUrl);
    if (command.createsDatabase) await io.ensureDatabaseFolder(config.databaseUrl);
    else await checkDatabaseExists(config.databaseUrl, database);
    // loaded only now: help and usage errors answer without the database driver and the rest of Spool
    const { createSpool } = await import("../create-spool.ts");
    spool = await createSpool({ url: config.databaseUrl, authToken: config.authToken, maxJsonDepth: config.maxJsonDepth });
    const opened = spool;
    await work({
      spool: opened,
      database,
      answer: (body, human) => io.stdout(json ? `${JSON.stringify(body)}\n` : typeof human === "string" ? human : human()),
      progress: (label) =>
        progressDisplay({ write: io.stderr, terminal: io.stderrIsTerminal, columns: io.columns ?? undefined, label, now: io.now }),
    });
    return EXIT_OK;
  } catch (error) {
    const { code, message } = describeFailure(error);
    if (json) io.stdout(`${JSON.stringify({ error: { code, message } })}\n`);
    io.stderr(`spool ${command.name}: ${message}\n`);
    return EXIT_FAILED;
  } finally {
    await spool?.close();
  }
}

function usageFailure(io: CliIo, message: string, command: Command | null): number {
  const help = command ? `spool ${command.name} --help` : "spool --help";
  io.stderr(`spool: ${message}\nRun "${help}" for usage.\n`);
  return EXIT_USAGE;
}

/**
 * A file database that is not there is refused rather than created empty:
 * a mistyped SPOOL_DATABASE_URL would otherwise look like an empty queue.
 */
async function checkDatabaseExists(url: string, label: string): Promise<void> {
  if (!url.startsWith("file:")) return;
  const path = filePath(url);
  if (path === ":memory:" || (await fileIdentity(path)) !== null) return;
  throw new CommandFailure("DATABASE_UNAVAILABLE", `database ${label} does not exist; "spool migrate" creates it`);
}

function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof SpoolError || error instanceof CommandFailure) return { code: error.code, message: oneLine(error.message) };
  return { code: "INTERNAL", message: oneLine((error as Error)?.message ?? String(error)) };
}

function oneLine(message: string): string {
  return message.split("\n")[0]!.trim();
}
