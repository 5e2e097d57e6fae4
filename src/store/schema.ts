/**
 * Numbered migrations. A shipped migration never changes; a schema change is a
 * new entry at the end. Each runs inside one write transaction together with
 * the row that records it, so a crash leaves either all of it or none.
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "jobs, queues, limits, schedules",
    statements: [
      `CREATE TABLE spool_jobs (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        queue TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('scheduled', 'pending', 'running', 'completed', 'dead', 'cancelled')),
        priority INTEGER NOT NULL,
        effective_priority INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
        run_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        lease_token TEXT,
        lease_expires_at INTEGER,
        worker_id TEXT,
        timeout_ms INTEGER,
        backoff TEXT,
        last_error TEXT,
        history TEXT NOT NULL DEFAULT '[]',
        idempotency_key TEXT,
        idempotency_window_ms INTEGER NOT NULL DEFAULT 86400000,
        idempotency_held INTEGER CHECK (idempotency_held = 1),
        idempotency_until INTEGER,
        workflow_id TEXT,
        parent_id INTEGER,
        schedule_name TEXT,
        scheduled_for INTEGER,
        cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
        CHECK ((finished_at IS NOT NULL) = (status IN ('completed', 'dead', 'cancelled'))),
        CHECK ((lease_expires_at IS NOT NULL) = (status = 'running')),
        CHECK ((idempotency_held IS NULL) OR (idempotency_key IS NOT NULL))
      )`,
      // the claim walks this index in order and stops after its LIMIT
      `CREATE INDEX spool_jobs_ready ON spool_jobs (effective_priority DESC, run_at, id) WHERE status = 'pending'`,
      `CREATE INDEX spool_jobs_due ON spool_jobs (run_at) WHERE status = 'scheduled'`,
      `CREATE INDEX spool_jobs_leases ON spool_jobs (lease_expires_at) WHERE status = 'running'`,
      `CREATE UNIQUE INDEX spool_jobs_idempotency ON spool_jobs (type, idempotency_key) WHERE idempotency_held = 1`,
      `CREATE UNIQUE INDEX spool_jobs_schedule_tick ON spool_jobs (schedule_name, scheduled_for) WHERE schedule_name IS NOT NULL`,
      // noOverlap asks "is a job of this schedule still unfinished?" without scanning its finished ones
      `CREATE INDEX spool_jobs_schedule_active ON spool_jobs (schedule_name)
        WHERE schedule_name IS NOT NULL AND status IN ('scheduled', 'pending', 'running')`,
      `CREATE INDEX spool_jobs_listing ON spool_jobs (status, type, id)`,
      `CREATE INDEX spool_jobs_workflow ON spool_jobs (workflow_id) WHERE workflow_id IS NOT NULL`,
      `CREATE INDEX spool_jobs_parent ON spool_jobs (parent_id) WHERE parent_id IS NOT NULL`,
      `CREATE TABLE spool_queues (
        name TEXT PRIMARY KEY,
        paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
        aging_ms INTEGER CHECK (aging_ms IS NULL OR aging_ms > 0)
      ) WITHOUT ROWID`,
      `CREATE TABLE spool_type_limits (
        type TEXT PRIMARY KEY,
        concurrency INTEGER CHECK (concurrency IS NULL OR concurrency > 0),
        rate_limit INTEGER CHECK (rate_limit IS NULL OR rate_limit > 0),
        rate_interval_ms INTEGER CHECK ((rate_limit IS NULL) = (rate_interval_ms IS NULL))
      ) WITHOUT ROWID`,
      // a log of starts for rate-limited types only, trimmed to one window as it grows
      `CREATE TABLE spool_job_starts (type TEXT NOT NULL, started_at INTEGER NOT NULL)`,
      `CREATE INDEX spool_job_starts_window ON spool_job_starts (type, started_at)`,
      `CREATE TRIGGER spool_record_start AFTER UPDATE OF status ON spool_jobs
        WHEN NEW.status = 'running'
          AND EXISTS (SELECT 1 FROM spool_type_limits l WHERE l.type = NEW.type AND l.rate_limit IS NOT NULL)
      BEGIN
        DELETE FROM spool_job_starts WHERE type = NEW.type
          AND started_at <= NEW.started_at - (SELECT rate_interval_ms FROM spool_type_limits WHERE type = NEW.type);
        INSERT INTO spool_job_starts (type, started_at) VALUES (NEW.type, NEW.started_at);
      END`,
      `CREATE TABLE spool_schedules (
        name TEXT PRIMARY KEY,
        cron TEXT NOT NULL,
        timezone TEXT,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        options TEXT NOT NULL,
        catch_up TEXT NOT NULL CHECK (catch_up IN ('latest', 'none', 'all')),
        no_overlap INTEGER NOT NULL CHECK (no_overlap IN (0, 1)),
        paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
        last_fire_at INTEGER,
        next_fire_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 2,
    name: "listing index only for finished jobs; completed attempt kept in the row",
    statements: [
      // a completed attempt is now read from the row's own columns (job-row.ts),
      // so a history written before this keeps it only there
      `UPDATE spool_jobs SET history = json_remove(history, '$[#-1]')
        WHERE status = 'completed' AND history ->> '$[#-1].outcome' = 'completed'`,
      // The (status, type, id) index was rewritten on every claim and every
      // completion, a fifth of a worker's write cost. Finished jobs get an
      // index they enter once; the active statuses are listed through the
      // partial indexes the queue keeps anyway (ready, due, leases).
      `DROP INDEX spool_jobs_listing`,
      // ORs, not IN: SQLite sees that "status = 'dead'" implies this condition only in this form
      `CREATE INDEX spool_jobs_finished ON spool_jobs (status, type, id)
        WHERE status = 'completed' OR status = 'dead' OR status = 'cancelled'`,
    ],
  },
  {
    version: 3,
    name: "table checks without IN lists",
    // An `x IN ('a', 'b', ...)` in a CHECK or a partial index's WHERE built a
    // lookup table for every row it was tested on: the checks alone halved
    // the insert rate. The same rules as OR chains cost a few comparisons.
    // SQLite cannot alter a CHECK, so the table is rebuilt with the same
    // columns in the same order, then its indexes and trigger come back.
    statements: [
      `CREATE TABLE spool_jobs_rebuilt (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        queue TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status = 'scheduled' OR status = 'pending' OR status = 'running'
          OR status = 'completed' OR status = 'dead' OR status = 'cancelled'),
        priority INTEGER NOT NULL,
        effective_priority INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
        run_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        lease_token TEXT,
        lease_expires_at INTEGER,
        worker_id TEXT,
        timeout_ms INTEGER,
        backoff TEXT,
        last_error TEXT,
        history TEXT NOT NULL DEFAULT '[]',
        idempotency_key TEXT,
        idempotency_window_ms INTEGER NOT NULL DEFAULT 86400000,
        idempotency_held INTEGER CHECK (idempotency_held = 1),
        idempotency_until INTEGER,
        workflow_id TEXT,
        parent_id INTEGER,
        schedule_name TEXT,
        scheduled_for INTEGER,
        cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested = 0 OR cancel_requested = 1),
        CHECK ((finished_at IS NOT NULL) = (status = 'completed' OR status = 'dead' OR status = 'cancelled')),
        CHECK ((lease_expires_at IS NOT NULL) = (status = 'running')),
        CHECK ((idempotency_held IS NULL) OR (idempotency_key IS NOT NULL))
      )`,
      `INSERT INTO spool_jobs_rebuilt SELECT * FROM spool_jobs ORDER BY id`,
      `DROP TABLE spool_jobs`,
      `ALTER TABLE spool_jobs_rebuilt RENAME TO spool_jobs`,
      `CREATE INDEX spool_jobs_ready ON spool_jobs (effective_priority DESC, run_at, id) WHERE status = 'pending'`,
      `CREATE INDEX spool_jobs_due ON spool_jobs (run_at) WHERE status = 'scheduled'`,
      `CREATE INDEX spool_jobs_leases ON spool_jobs (lease_expires_at) WHERE status = 'running'`,
      `CREATE UNIQUE INDEX spool_jobs_idempotency ON spool_jobs (type, idempotency_key) WHERE idempotency_held = 1`,
      `CREATE UNIQUE INDEX spool_jobs_schedule_tick ON spool_jobs (schedule_name, scheduled_for) WHERE schedule_name IS NOT NULL`,
      `CREATE INDEX spool_jobs_schedule_active ON spool_jobs (schedule_name)
        WHERE schedule_name IS NOT NULL AND (status = 'scheduled' OR status = 'pending' OR status = 'running')`,
      `CREATE INDEX spool_jobs_workflow ON spool_jobs (workflow_id) WHERE workflow_id IS NOT NULL`,
      `CREATE INDEX spool_jobs_parent ON spool_jobs (parent_id) WHERE parent_id IS NOT NULL`,
      `CREATE INDEX spool_jobs_finished ON spool_jobs (status, type, id)
        WHERE status = 'completed' OR status = 'dead' OR status = 'cancelled'`,
      `CREATE TRIGGER spool_record_start AFTER UPDATE OF status ON spool_jobs
        WHEN NEW.status = 'running'
          AND EXISTS (SELECT 1 FROM spool_type_limits l WHERE l.type = NEW.type AND l.rate_limit IS NOT NULL)
      BEGIN
        DELETE FROM spool_job_starts WHERE type = NEW.type
          AND started_at <= NEW.started_at - (SELECT rate_interval_ms FROM spool_type_limits WHERE type = NEW.type);
        INSERT INTO spool_job_starts (type, started_at) VALUES (NEW.type, NEW.started_at);
      END`,
    ],
  },
  {
    version: 4,
    name: "ready index by type; options a job takes from its handling worker",
    statements: [
      // A worker claims only the types it defines: one probe per type down
      // this index, so pending jobs of types no worker runs cost nothing to
      // pass over. Still partial on status = 'pending' alone, so pending
      // counts and pages read it as before.
      `DROP INDEX spool_jobs_ready`,
      `CREATE INDEX spool_jobs_ready ON spool_jobs (type, effective_priority DESC, run_at, id) WHERE status = 'pending'`,
      // Bits of the options the enqueuer left unset (1: max_attempts,
      // 2: timeout_ms): each claim writes them from the claiming worker's
      // definition. 0 for rows from before, which keep what they stored.
      `ALTER TABLE spool_jobs ADD COLUMN options_from_type INTEGER NOT NULL DEFAULT 0`,
    ],
  },
];
