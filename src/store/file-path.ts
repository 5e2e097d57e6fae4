/** The file path of a `file:` URL, as @libsql/client reads it (`file:rel/x.db`, `file:/abs/x.db`, `file:///abs/x.db`). */
export function filePath(url: string): string {
  if (url === "file::memory:") return ":memory:";
  // query parameters (tls=, authToken=) mean nothing to a local file
  const rest = url.slice("file:".length).replace(/[?#].*$/, "");
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    const host = rest.slice(2, slash < 0 ? undefined : slash);
    if (host !== "" && host !== "localhost") throw new Error(`URL_INVALID: a file: URL cannot name a host (${JSON.stringify(host)})`);
    return decodeURIComponent(slash < 0 ? "" : rest.slice(slash));
  }
  return decodeURIComponent(rest);
}
