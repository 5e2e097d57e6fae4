/**
 * Test support: damage a real database file the way a failing disk would (by
 * writing garbage over one of its pages), or fill it up the way a full disk
 * would (by capping its size).
 */
import { closeSync, openSync, writeSync } from "node:fs";
import Libsql from "libsql";
import type { Spool } from "../../src/spool.ts";
import { storeOf } from "./internals.ts";

/**
 * Caps a Spool's file at its current size plus `spare` pages through
 * `PRAGMA max_page_count`. The setting is per connection; a file Spool holds
 * exactly one, so it holds for every statement it runs.
 */
export async function capFile(spool: Spool, spare: number): Promise<void> {
  const { rows } = await storeOf(spool).db.execute("PRAGMA page_count");
  await storeOf(spool).db.execute(`PRAGMA max_page_count = ${Number(rows[0]!.page_count) + spare}`);
}

/** Lifts the cap of capFile. */
export async function uncapFile(spool: Spool): Promise<void> {
  await storeOf(spool).db.execute("PRAGMA max_page_count = 1073741823");
}

/** Enqueues 1 KB jobs of `type` until the capped file is full (STORAGE_FULL); returns how many fit. */
export async function fillUp(spool: Spool, type = "filler"): Promise<number> {
  for (let i = 0; i < 10_000; i++) {
    try {
      await spool.enqueue(type, { i, pad: "p".repeat(1000) });
    } catch (error) {
      if ((error as { code?: unknown }).code !== "STORAGE_FULL") throw error;
      return i;
    }
  }
  throw new Error("the capped file never filled up");
}

/**
 * Overwrites the root page of `name` (a table or an index) in the closed
 * database file at `path` with garbage, after moving everything from the WAL
 * into the file. Returns the page number it damaged.
 */
export function corruptRootPage(path: string, name: string): number {
  const db = new Libsql(path);
  let page: number;
  let size: number;
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const [row] = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = ?").all([name]) as Array<{ rootpage: number }>;
    if (!row) throw new Error(`no table or index is named ${name} in ${path}`);
    page = Number(row.rootpage);
    size = Number((db.prepare("PRAGMA page_size").all([]) as Array<{ page_size: number }>)[0]!.page_size);
  } finally {
    db.close();
  }
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, new Uint8Array(size).fill(0xab), 0, size, (page - 1) * size);
  } finally {
    closeSync(fd);
  }
  return page;
}
