/**
 * The main entry's platform (Node, Bun, Deno): local files through libSQL's
 * native driver and servers over HTTP. The
 * native driver is imported only when a `file:` URL is opened, so a worker on
 * a server never loads it.
 */
import { fileIdentity } from "../runtime/files.ts";
import type { ConnectionSettings } from "../store/database.ts";
import type { Connection } from "../store/connection.ts";
import { ServerConnection } from "../store/server-connection.ts";
import type { Platform } from "./platform.ts";

async function connect(url: string, settings: ConnectionSettings): Promise<Connection> {
  if (url.startsWith("file:")) {
    const { FileConnection } = await import("../store/file-connection.ts");
    return new FileConnection(url, settings.busyTimeoutMs);
  }
  return new ServerConnection(url, settings);
}

export const nativePlatform: Platform = { connect, fileIdentity };
