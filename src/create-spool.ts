import { nativePlatform } from "./platform/native.ts";
import { type Spool, type SpoolOptions, openSpool } from "./spool.ts";

/**
 * Opens (creating if needed) the database at `url` (a `file:` path, `:memory:`
 * or a libSQL server URL), runs migrations and returns a Spool. Throws
 * INVALID_CONFIG for an unusable URL and DATABASE_UNAVAILABLE when the
 * database cannot be opened.
 */
export function createSpool(options: SpoolOptions): Promise<Spool> {
  return openSpool(options, nativePlatform);
}
