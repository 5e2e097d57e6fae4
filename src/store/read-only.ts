const READ = /^\s*(SELECT|PRAGMA|EXPLAIN)\b/i;
// Spool's SQL is a fixed set of strings; the bound only guards against a caller that builds statements on the fly.
const MEMO_SIZE = 256;
const memo = new Map<string, boolean>();

/** True for a statement that takes no write lock (a PRAGMA that sets a value is let through: it takes none either). */
export function isReadOnly(statement: string | { sql: string }): boolean {
  const sql = typeof statement === "string" ? statement : statement.sql;
  let read = memo.get(sql);
  if (read === undefined) {
    read = READ.test(sql);
    if (memo.size < MEMO_SIZE) memo.set(sql, read);
  }
  return read;
}
