/**
 * What a Spool needs from the place it runs, beyond Web-standard APIs. Each
 * entry point (`spool`, `spool/web`) brings one, so the web entry's import
 * graph holds no native driver and no `node:` module.
 */
import type { ConnectionOpener } from "../store/database.ts";

export interface Platform {
  /** Opens the connection for a database URL given without a client. */
  connect: ConnectionOpener;
  /** Names the file now at a path (null when none is), so a deleted database file is noticed; absent where there are no files. */
  fileIdentity?: (path: string) => Promise<string | null>;
}
