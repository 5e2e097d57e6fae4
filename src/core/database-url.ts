/**
 * The rules of a database URL, in one place: which schemes Spool opens, and
 * how a `file:` URL names a path. The worker's config, the store and the
 * runtime's folder creation all read a URL through these.
 */
import { SpoolError } from "./errors.ts";

/**
 * True when libSQL can open `url`: `file:`, `libsql:`, `http(s):` or `ws(s):`,
 * or `:memory:` (an in-process database that lives as long as its Spool).
 */
export function isDatabaseUrl(url: string): boolean {
  return url === ":memory:" || /^(file|libsql|https?|wss?):/.test(url);
}

/** What a caller says about a URL `isDatabaseUrl` refuses. */
export const DATABASE_URL_SCHEMES = "file:, libsql:, http(s): or ws(s): (or :memory:)";

/**
 * The file path of a `file:` URL, as @libsql/client reads it (`file:rel/x.db`,
 * `file:/abs/x.db`, `file:///abs/x.db`, `file://localhost/abs/x.db`);
 * `:memory:` for `file::memory:`. Query and fragment mean nothing to a local
 * file and are dropped; %-escapes are decoded. Throws INVALID_CONFIG for a
 * `file:` URL that names a host other than localhost.
 */
export function filePath(url: string): string {
  if (url === "file::memory:" || url === ":memory:") return ":memory:";
  const rest = url.slice("file:".length).replace(/[?#].*$/, "");
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    const host = rest.slice(2, slash < 0 ? undefined : slash);
    if (host !== "" && host !== "localhost") {
      throw new SpoolError("INVALID_CONFIG", `a file: URL cannot name a host, got ${JSON.stringify(host)} in ${JSON.stringify(url)}`);
    }
    return decodeURIComponent(slash < 0 ? "" : rest.slice(slash));
  }
  return decodeURIComponent(rest);
}
