/**
 * Serving a Spool's HTTP API from a library user's process: the handler of
 * `createHandler`, bound with the runtime's server (Node, Bun or Deno). The
 * worker process serves through this too.
 */
import { DEFAULT_HOSTNAME, DEFAULT_PORT } from "./core/defaults.ts";
import { SpoolError } from "./core/errors.ts";
import { type Handler, type HandlerOptions, checkHandlerOptions, createHandler } from "./http/handler.ts";
import { isLoopbackHostname } from "./http/host.ts";
import { serveHttp } from "./runtime/serve.ts";
import type { Spool } from "./spool.ts";

export interface ServeOptions extends HandlerOptions {
  /** Port to listen on; 0 picks a free one. Default 8787. */
  port?: number;
  /** Address to bind. Default 127.0.0.1 (loopback only). */
  hostname?: string;
  /** Bind a non-loopback address without `apiToken`. Default false: such a call is refused. */
  allowUnauthenticated?: boolean;
}

/** A running HTTP server: `close()` stops it (idempotent). */
export interface SpoolServer {
  /** The base URL it answers on, e.g. `http://127.0.0.1:8787/`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves the HTTP API (and `routes`) over HTTP until `close()`. The Host check
 * uses the address and the port actually bound. Throws INVALID_OPTIONS for a
 * bad option, and for a non-loopback `hostname` without `apiToken` unless
 * `allowUnauthenticated`; rejects when the port cannot be bound.
 */
export async function serve(spool: Spool, options: ServeOptions = {}): Promise<SpoolServer> {
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  const port = options.port ?? DEFAULT_PORT;
  const handlerOptions = { ...options, hostname, port };
  checkHandlerOptions(handlerOptions);
  if (options.allowUnauthenticated !== undefined && typeof options.allowUnauthenticated !== "boolean") {
    throw new SpoolError("INVALID_OPTIONS", `allowUnauthenticated must be true or false, got ${JSON.stringify(options.allowUnauthenticated)}`);
  }
  if (options.apiToken === undefined && !isLoopbackHostname(hostname) && options.allowUnauthenticated !== true) {
    throw new SpoolError(
      "INVALID_OPTIONS",
      `refusing to serve on ${JSON.stringify(hostname)} without apiToken: anyone who reaches it could run, retry and cancel jobs. ` +
        "Set apiToken, bind a loopback hostname (127.0.0.1), or pass allowUnauthenticated: true",
    );
  }
  // the Host check needs the port really bound (port 0 picks one), so the handler is made once it is known
  let ready!: (handler: Handler) => void;
  const handler = new Promise<Handler>((resolve) => (ready = resolve));
  const server = await serveHttp(async (request) => (await handler).fetch(request), { port, hostname });
  ready(createHandler(spool, { ...handlerOptions, port: server.port }));
  return server;
}
