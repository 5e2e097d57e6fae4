/**
 * Serves a fetch handler over HTTP on whichever runtime this is, through srvx.
 * srvx's own signal handling is turned off: the worker owns shutdown.
 */
import { serve } from "srvx";

export interface HttpServer {
  /** e.g. http://127.0.0.1:8787/ */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface ServeOptions {
  port: number;
  hostname: string;
}

export async function serveHttp(fetch: (request: Request) => Promise<Response>, options: ServeOptions): Promise<HttpServer> {
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
    port: Number(url.port),
    close: () => (closing ??= Promise.resolve(server.close(true)).then(() => undefined)),
  };
}
