// The main entry: everything spool/web offers, with the createSpool that also
// opens embedded files (the native driver, loaded only for a file: URL) and
// `serve`, which needs a runtime's server. An explicit export takes
// precedence over the web entry's createSpool of the same name.
export * from "./web.ts";
export { createSpool } from "./create-spool.ts";
export { serve } from "./serve.ts";
export type { ServeOptions, SpoolServer } from "./serve.ts";
