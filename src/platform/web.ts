/**
 * The web entry's platform: a libSQL server over fetch and nothing else, for
 * edge runtimes and bundles where no native driver or `node:` module exists.
 */
import { SpoolError } from "../core/errors.ts";
import type { ConnectionSettings } from "../store/database.ts";
import type { Connection } from "../store/connection.ts";
import { ServerConnection } from "../store/server-connection.ts";
import type { Platform } from "./platform.ts";

function connect(url: string, settings: ConnectionSettings): Connection {
  if (url.startsWith("file:")) {
    throw new SpoolError(
      "INVALID_CONFIG",
      `database url ${JSON.stringify(url)} is a local file, which spool/web cannot open: it has no native driver. Import "spool" (the main entry) for files, or use a libsql:, http(s): or ws(s): server URL`,
    );
  }
  return new ServerConnection(url, settings);
}

export const webPlatform: Platform = { connect };
