/**
 * Structured logs: one JSON object a line, with `time`, `level`, `msg` and
 * whatever fields the call site adds (job id, type, attempt, ...).
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function isLogLevel(value: string): value is LogLevel {
  return value in RANK;
}

/**
 * A logger that writes lines at or above `level` through `write`
 * (console.log by default, which every runtime sends to stdout).
 */
export function createJsonLogger(
  level: LogLevel = "info",
  write: (line: string) => void = (line) => console.log(line),
  now: () => number = () => Date.now(),
): Logger {
  const threshold = RANK[level];
  const emit = (lvl: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < threshold) return;
    write(JSON.stringify({ time: new Date(now()).toISOString(), level: lvl, msg, ...fields }));
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}

export const silentLogger: Logger = createJsonLogger("silent");
