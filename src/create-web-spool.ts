import { webPlatform } from "./platform/web.ts";
import { type Spool, type SpoolOptions, openSpool } from "./spool.ts";

/**
 * Opens the database on a libSQL server (`libsql:`, `http(s):` or `ws(s):`
 * URL, all spoken to over fetch), runs migrations and returns a Spool. Throws
 * INVALID_CONFIG for a `file:` URL (the main entry, `spool`, opens files) or
 * an unusable URL, and DATABASE_UNAVAILABLE when the server cannot be reached.
 * `start()` needs `http: false`: there is no server to listen with here.
 */
export function createSpool(options: SpoolOptions): Promise<Spool> {
  return openSpool(options, webPlatform);
}
