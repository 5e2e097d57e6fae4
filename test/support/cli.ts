/**
 * Running the real `spool` command as a process, on the runtime of choice,
 * with stdout and stderr kept apart and the exit status awaited.
 */
import { spawn } from "node:child_process";
import { ROOT, type RuntimeName, currentRuntime, runtimeCommand } from "./processes.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` in the repository with `env` over this process's environment (SPOOL_* from outside removed). */
export function runCommand(command: string, args: string[], env: Record<string, string>, timeoutMs = 45_000): Promise<CliRun> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SPOOL_")));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...inherited, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `spool args` (src/cli.ts, or dist/cli.js on node) on `runtime`, by default the one running the tests. */
export function runSpool(args: string[], env: Record<string, string>, runtime: RuntimeName = currentRuntime()): Promise<CliRun> {
  const [command, base] = runtimeCommand(runtime, { ts: "src/cli.ts", js: "dist/cli.js" });
  return runCommand(command, [...base, ...args], env);
}
