/**
 * Test support: fresh database files, a Spool on them, and waiting on
 * conditions instead of sleeping for fixed times.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSpool, type Spool, type SpoolOptions } from "../../src/index.ts";

/** A new empty folder and a `file:` URL for a database in it. */
export function tempDatabase(prefix = "spool-test-"): { dir: string; path: string; url: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, "spool.db");
  return { dir, path, url: `file:${path}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A Spool on a fresh database file; close it in afterEach. */
export async function openSpool(options: Partial<SpoolOptions> = {}): Promise<{ spool: Spool; url: string; dir: string; cleanup: () => Promise<void> }> {
  const db = tempDatabase();
  const spool = await createSpool({ url: db.url, ...options });
  return {
    spool,
    url: db.url,
    dir: db.dir,
    cleanup: async () => {
      await spool.close();
      db.cleanup();
    },
  };
}

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      // a check that never returns still ends in a timeout that says so
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stuck = Symbol("stuck");
      const value = await Promise.race([
        Promise.resolve().then(check),
        new Promise<typeof stuck>((r) => (timer = setTimeout(() => r(stuck), Math.max(0, deadline - Date.now()) + 1))),
      ]).finally(() => clearTimeout(timer));
      if (value === stuck) last = "the check itself had not returned";
      else if (value) return value as NonNullable<T>;
      else last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A promise with its resolve, for tests that await events. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
