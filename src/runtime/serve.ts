/**
 * Serves a fetch handler over HTTP on whichever runtime this is, through srvx.
 * srvx's own signal handling is turned off: the worker owns shutdown.
 */
import { serve } from "srvx";

export interface HttpServer {
  /** e.g. http://127.0.0.1:8787/ */
  readonly url: string;
  readonly port: number;
  /** Stops listening and ends open connections. Idempotent. */
  close(): Promise<void>;
}

export interface HttpServeOptions {
  port: number;
  hostname: string;
}

/** Listens on `hostname:port` (0 picks a free port) and answers every request with `fetch`. Rejects when the port cannot be bound. */
export async function serveHttp(fetch: (request: Request) => Promise<Response>, options: HttpServeOptions): Promise<HttpServer> {
  const server = serve({
    fetch,
    port: options.port,
    hostname: options.hostname,
    silent: true,
    gracefulShutdown: false,
  });
  await server.ready();
  const url = new URL(server.url ?? `http://${options.hostname}:${options.port}/`);
  let closing: Promise<void> | null = null;
  return {
    url: url.href,
    port: Number(url.port || 80),
    close: () => (closing ??= Promise.resolve(server.close(true)).then(() => undefined)),
  };
}
