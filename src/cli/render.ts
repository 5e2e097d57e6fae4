/**
 * Plain-text rendering for a terminal: aligned tables, instants, durations,
 * and cells cut to a readable width.
 */

/** Cuts `text` to one line of at most `max` characters, marking a cut with "…". */
export function clip(text: string, max = 60): string {
  const line = text.replace(/\s*\n[\s\S]*$/, " …").replace(/\s+/g, " ");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Columns padded to their widest cell, two spaces apart; no trailing spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/** An instant as `2030-01-01 09:00:00Z` (UTC, whole seconds); "-" for none. */
export function instant(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");
}

/** A length of time in its two largest units: `850ms`, `12s`, `3m 20s`, `2h 5m`, `3d 4h`; "-" for none. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const units: Array<[string, number]> = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1_000]];
  const parts: string[] = [];
  let rest = Math.floor(ms);
  for (const [name, size] of units) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0 || parts.length > 0) parts.push(`${amount}${name}`);
    if (parts.length === 2) break;
  }
  return parts.filter((p) => !/^0/.test(p)).join(" ");
}
