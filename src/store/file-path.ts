// The one file: URL parser lives in core (database-url.ts); the store's
// modules take it from here so no store file reaches the native driver for it.
export { filePath } from "../core/database-url.ts";
