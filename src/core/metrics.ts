/**
 * Prometheus metrics of this process: counters and histograms fed by the
 * event sink, rendered in the text exposition format 0.0.4 together with the
 * database's gauges read at scrape time. Counters start at zero when the
 * process starts, as Prometheus expects of every scraped process.
 */
import type { EventSink } from "./events.ts";

/** The gauges a scrape reads from the database. */
export interface MetricGauges {
  /** Jobs by queue and status (every status of every queue that has jobs). */
  jobs: Array<{ queue: string; status: string; n: number }>;
  /** Per queue, how long its longest-waiting pending job has been runnable, in ms (0 when none is pending). */
  oldestPendingMs: Array<{ queue: string; ms: number }>;
  /** Workers seen in the last lease period. */
  workers: number;
}

// upper bounds in seconds: from a no-op job to an hour-long one
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The five counters of one (type, queue) pair, in COUNTERS order. */
type Series = [number, number, number, number, number];
const INDEX: Record<CounterName, number> = { enqueued: 0, completed: 1, failed: 2, retried: 3, dead: 4 };

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const COUNTERS = {
  enqueued: ["spool_jobs_enqueued_total", "Jobs enqueued by this process (enqueue, POST /jobs, cron ticks, jobs staged by handlers)."],
  completed: ["spool_jobs_completed_total", "Jobs completed by this process."],
  failed: ["spool_jobs_failed_total", "Attempts that failed in this process (thrown, timed out, or a lease this process's reaper recovered), the last ones too."],
  retried: ["spool_jobs_retried_total", "Failed attempts this process scheduled to run again."],
  dead: ["spool_jobs_dead_total", "Jobs this process moved to the dead-letter queue."],
} as const;

type CounterName = keyof typeof COUNTERS;

export class Metrics {
  // type -> queue -> counters: two lookups per event, no key string built on the hot path
  readonly #counters = new Map<string, Map<string, Series>>();
  readonly #run = new Map<string, Histogram>();
  readonly #wait = new Map<string, Histogram>();

  /** Starts counting what `events` reports. */
  constructor(events: EventSink) {
    events.on("enqueued", ({ job }) => this.#count("enqueued", job.type, job.queue));
    events.onStaged(({ jobs }) => {
      for (const job of jobs) this.#count("enqueued", job.type, job.queue);
    });
    events.on("started", ({ job }) => observe(this.#wait, job.type, Math.max(0, (job.startedAt ?? job.runAt) - job.runAt) / 1000));
    events.on("completed", ({ job, durationMs }) => {
      this.#count("completed", job.type, job.queue);
      observe(this.#run, job.type, Math.max(0, durationMs) / 1000);
    });
    events.on("failed", ({ job, willRetry }) => {
      this.#count("failed", job.type, job.queue);
      if (willRetry) this.#count("retried", job.type, job.queue);
    });
    events.on("dead", ({ job }) => this.#count("dead", job.type, job.queue));
  }

  #count(name: CounterName, type: string, queue: string): void {
    let byQueue = this.#counters.get(type);
    if (!byQueue) this.#counters.set(type, (byQueue = new Map()));
    let series = byQueue.get(queue);
    if (!series) byQueue.set(queue, (series = [0, 0, 0, 0, 0]));
    series[INDEX[name]]++;
  }

  /** The exposition text: this process's counters and histograms, then `gauges`. */
  render(gauges: MetricGauges): string {
    const lines: string[] = [];
    for (const [name, [metric, help]] of Object.entries(COUNTERS) as Array<[CounterName, readonly [string, string]]>) {
      lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} counter`);
      for (const [type, byQueue] of [...this.#counters].sort(byKey)) {
        for (const [queue, series] of [...byQueue].sort(byKey)) {
          const value = series[INDEX[name]];
          if (value > 0) lines.push(`${metric}{type="${label(type)}",queue="${label(queue)}"} ${value}`);
        }
      }
    }
    renderHistogram(lines, "spool_job_run_seconds", "Run time of jobs completed in this process, from the start of the attempt to its completion.", this.#run);
    renderHistogram(lines, "spool_job_wait_seconds", "Time from a job's runAt to the start of an attempt in this process.", this.#wait);
    lines.push("# HELP spool_jobs Jobs in the database by queue and status.", "# TYPE spool_jobs gauge");
    for (const { queue, status, n } of gauges.jobs) lines.push(`spool_jobs{queue="${label(queue)}",status="${label(status)}"} ${n}`);
    lines.push(
      "# HELP spool_queue_oldest_pending_seconds How long the queue's longest-waiting pending job has been runnable (0 when none is pending).",
      "# TYPE spool_queue_oldest_pending_seconds gauge",
    );
    for (const { queue, ms } of gauges.oldestPendingMs) lines.push(`spool_queue_oldest_pending_seconds{queue="${label(queue)}"} ${ms / 1000}`);
    lines.push("# HELP spool_workers Workers seen in the last lease period.", "# TYPE spool_workers gauge", `spool_workers ${gauges.workers}`);
    return `${lines.join("\n")}\n`;
  }
}

function observe(histograms: Map<string, Histogram>, type: string, seconds: number): void {
  let histogram = histograms.get(type);
  if (!histogram) histograms.set(type, (histogram = { counts: new Array(BUCKETS.length).fill(0), sum: 0, count: 0 }));
  let i = 0;
  while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
  if (i < BUCKETS.length) histogram.counts[i]!++;
  histogram.sum += seconds;
  histogram.count++;
}

function renderHistogram(lines: string[], name: string, help: string, histograms: Map<string, Histogram>): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  for (const [type, h] of [...histograms].sort(byKey)) {
    const t = label(type);
    let cumulative = 0;
    BUCKETS.forEach((bound, i) => {
      cumulative += h.counts[i]!;
      lines.push(`${name}_bucket{type="${t}",le="${bound}"} ${cumulative}`);
    });
    lines.push(`${name}_bucket{type="${t}",le="+Inf"} ${h.count}`, `${name}_sum{type="${t}"} ${h.sum}`, `${name}_count{type="${t}"} ${h.count}`);
  }
}

function byKey(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** A label value as the format escapes it: backslash, double quote and newline. */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
