/**
 * What a command-line program needs of its process: its arguments, whether
 * an output stream is a terminal (and how wide), and writes that can be
 * awaited before the process exits. Node, Bun and Deno all answer through
 * node:process; Deno's arguments come from Deno.args, which holds exactly the
 * user's words under `deno run` and `deno task`.
 */
import process from "node:process";

const deno = (globalThis as { Deno?: { args: string[] } }).Deno;

export type OutputStream = "stdout" | "stderr";

/** The words after the program's own name. */
export function commandArguments(): string[] {
  return deno ? [...deno.args] : process.argv.slice(2);
}

/** True when `stream` is an interactive terminal, not a pipe or a file. */
export function isTerminal(stream: OutputStream): boolean {
  return Boolean(process[stream].isTTY);
}

/** The terminal's width in columns, or null when `stream` is not a terminal. */
export function terminalColumns(stream: OutputStream): number | null {
  const columns = process[stream].columns;
  return isTerminal(stream) && typeof columns === "number" && columns > 0 ? columns : null;
}

/**
 * Writes `text` to `stream`; resolves once the runtime has taken it, so a
 * process that exits after awaiting loses none of its output to a pipe.
 */
export function writeOutput(stream: OutputStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process[stream].write(text, (error?: Error | null) => (error ? reject(error) : resolve()));
  });
}
