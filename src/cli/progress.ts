/**
 * Progress of a long operation on stderr: a bar redrawn in place on a
 * terminal, plain lines (at most one a second, and the last) otherwise, so a
 * log keeps a readable record.
 */
import type { BulkProgress } from "../spool.ts";

export interface ProgressOptions {
  /** Where the text goes (stderr). */
  write: (text: string) => void;
  /** True to draw a bar in place; false for plain lines. */
  terminal: boolean;
  /** Width of the terminal in columns. Default 80. */
  columns?: number;
  /** Names the operation: "retrying dead jobs". */
  label: string;
  /** Milliseconds now, to space plain lines out. */
  now: () => number;
}

export interface ProgressDisplay {
  update(progress: BulkProgress): void;
  /** Ends the display: the bar's line is finished, a last plain line written. */
  finish(): void;
}

const PLAIN_EVERY_MS = 1_000;

/** One frame of the bar: `label [#####.....]  50% 500/1000`, fitted to `columns`. */
export function renderBar(label: string, progress: BulkProgress, columns: number): string {
  const fraction = progress.total > 0 ? Math.min(1, progress.done / progress.total) : 1;
  const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${progress.done}/${progress.total}`;
  const room = columns - 1 - label.length - tail.length - 3;
  if (room < 10) return `${label}${tail}`;
  const width = Math.min(40, room);
  const filled = Math.round(fraction * width);
  return `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}]${tail}`;
}

/** A progress display for `options.label`; call `update` after each batch and `finish` once. */
export function progressDisplay(options: ProgressOptions): ProgressDisplay {
  let last: BulkProgress | null = null;
  let lastLineAt = -Infinity;
  let lastLineDone = -1;
  const plain = (progress: BulkProgress) => {
    options.write(`${options.label}: ${progress.done}/${progress.total}\n`);
    lastLineAt = options.now();
    lastLineDone = progress.done;
  };
  return {
    update(progress) {
      last = progress;
      if (options.terminal) options.write(`\r${renderBar(options.label, progress, options.columns ?? 80)}\x1b[K`);
      else if (options.now() - lastLineAt >= PLAIN_EVERY_MS) plain(progress);
    },
    finish() {
      if (last === null) return;
      if (options.terminal) options.write("\n");
      else if (last.done !== lastLineDone) plain(last);
    },
  };
}
