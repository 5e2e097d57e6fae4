/**
 * File-system facts the worker needs: the folder of a file database, whether
 * the database file is still the one that was opened, and the URL to import a
 * user's jobs module from.
 */
import { mkdir, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { filePath } from "../core/database-url.ts";

/** Creates the folder that will hold a `file:` database, if missing. */
export async function ensureDatabaseFolder(url: string): Promise<void> {
  if (!url.startsWith("file:")) return;
  const path = filePath(url);
  if (path === "" || path === ":memory:") return;
  await mkdir(dirname(resolve(path)), { recursive: true });
}

/** An importable URL for a module path given relative to `cwd` (or absolute). */
export function moduleUrl(path: string, cwd: string): string {
  if (/^(file|https?|npm|jsr):/.test(path)) return path;
  return pathToFileURL(isAbsolute(path) ? path : resolve(cwd, path)).href;
}

/**
 * Which file sits at `path` now (device and inode), or null when none does.
 * A database file that was deleted or moved stays writable through the open
 * connection, so only this tells that its writes would be lost.
 */
export async function fileIdentity(path: string): Promise<string | null> {
  try {
    const info = await stat(path);
    return `${info.dev}:${info.ino}`;
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return null;
    throw error;
  }
}
