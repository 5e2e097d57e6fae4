/**
 * Spool's defaults, written once: the library (createSpool, start, serve) and
 * the worker's SPOOL_* environment (config.ts) read them from here, so the
 * two faces cannot drift apart.
 */

/** Port the API listens on. SPOOL_PORT / `serve({ port })`. */
export const DEFAULT_PORT = 8787;

/** Address the API binds: loopback only, so an unauthenticated API is never reachable from elsewhere. */
export const DEFAULT_HOSTNAME = "127.0.0.1";

/** How long a claim holds a job before the reaper may take it back, ms. SPOOL_LEASE_MS / `leaseMs`. */
export const DEFAULT_LEASE_MS = 30_000;

/** Handlers a worker runs at once. SPOOL_CONCURRENCY / `start({ concurrency })`. */
export const DEFAULT_CONCURRENCY = 10;

/**
 * Jobs claimed ahead per slot by default (prefetch = 32 × concurrency). Since
 * a freed slot takes its next buffered job without a pass of the producer,
 * larger buffers pay where transactions are what a worker waits for: 1 / 2 /
 * 4 worker processes on one file processed 29-30k / 26k / 22-24k no-op jobs/s
 * in total at 8 per slot, 35k / 35-37k / 29-35k at 32, and no more at 64;
 * through sqld at concurrency 50, 12k / 15k / 11k at 8 and 21-25k / 21-26k /
 * 19-22k at 32 (README, Claiming ahead).
 */
export const DEFAULT_PREFETCH_PER_SLOT = 32;

/** Where the worker keeps its jobs with no SPOOL_DATABASE_URL. */
export const DEFAULT_DATABASE_URL = "file:./data/spool.db";

/**
 * The longest any service loop sleeps before it looks at the wall clock
 * again, ms: croner's advice, and ours. A laptop that slept, or a clock that
 * jumped, is noticed within this much.
 */
export const LONGEST_SLEEP_MS = 30_000;

/**
 * The budget of a drain on a platform's cron trigger (`scheduled`) and of a
 * `POST /drain` that names none, ms: it leaves 5 s of the common 30 s
 * invocation limit for starting up and answering.
 */
export const DEFAULT_DRAIN_BUDGET_MS = 25_000;
