/**
 * Numbered migrations. A shipped migration never changes; a schema change is a
 * new entry at the end. Each runs inside one write transaction together with
 * the row that records it, so a crash leaves either all of it or none.
 */
export interface Migration {
  version: number;
  name: string;
  /**
   * Rebuilds spool_jobs first, with its CREATE statement as `edit` returns it
   * and every index and trigger it had (whatever earlier migrations made
   * them): the only way SQLite changes a CHECK.
   */
  rebuildJobs?: (createTable: string) => string;
  statements: string[];
}

// Counts of a workflow's jobs by status, in its row (spool_workflows), moved
// by the triggers below in the very statement that moves a job.
const COUNTED = ["blocked", "scheduled", "pending", "running", "completed", "dead", "cancelled"] as const;

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
  {
    version: 5,
    name: "workflows: blocked jobs, dependencies, results, warnings, the workflows table",
    rebuildJobs: (createTable) => {
      const edited = createTable.replace(/status TEXT NOT NULL CHECK \(/, "status TEXT NOT NULL CHECK (status = 'blocked' OR ");
      if (edited === createTable) throw new Error("migration 5: the status CHECK of spool_jobs is not where it was expected");
      return edited;
    },
    statements: [
      `ALTER TABLE spool_jobs ADD COLUMN result TEXT`,
      // [{ attempt, message }] of ctx.warn, or NULL for none
      `ALTER TABLE spool_jobs ADD COLUMN warnings TEXT`,
      `ALTER TABLE spool_jobs ADD COLUMN optional INTEGER CHECK (optional = 1)`,
      `ALTER TABLE spool_jobs ADD COLUMN on_dependency_failure TEXT CHECK (on_dependency_failure = 'run')`,
      // 1 once some job waits for this one: only such jobs make a batch read the dependency table
      `ALTER TABLE spool_jobs ADD COLUMN has_dependents INTEGER CHECK (has_dependents = 1)`,
      // the dependency whose failure cancelled this job (NULL for an operator's cancel)
      `ALTER TABLE spool_jobs ADD COLUMN cancelled_by INTEGER`,
      // its position among the jobs its parent's attempt staged, which that attempt's `after` names
      `ALTER TABLE spool_jobs ADD COLUMN stage INTEGER`,
      `CREATE INDEX spool_jobs_blocked ON spool_jobs (id) WHERE status = 'blocked'`,
      // indexed both ways: a finishing job finds its dependents, a dependent its dependencies
      `CREATE TABLE spool_dependencies (
        depends_on INTEGER NOT NULL,
        job_id INTEGER NOT NULL,
        PRIMARY KEY (depends_on, job_id)
      ) WITHOUT ROWID`,
      `CREATE INDEX spool_dependencies_of_job ON spool_dependencies (job_id, depends_on)`,
      // Jobs with dependents that finished in the current transaction; the
      // batch that finished them settles their dependents and empties it.
      `CREATE TABLE spool_settle (id INTEGER PRIMARY KEY)`,
      `CREATE TRIGGER spool_dependency_finished AFTER UPDATE OF status ON spool_jobs
        WHEN NEW.has_dependents = 1 AND NEW.finished_at IS NOT NULL AND OLD.finished_at IS NULL
      BEGIN
        INSERT OR IGNORE INTO spool_settle (id) VALUES (NEW.id);
      END`,
      `CREATE TABLE spool_workflows (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        jobs INTEGER NOT NULL DEFAULT 0,
        ${COUNTED.map((status) => `${status} INTEGER NOT NULL DEFAULT 0`).join(",\n        ")},
        dead_required INTEGER NOT NULL DEFAULT 0,
        cancelled_by_operator INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0,
        cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested = 0 OR cancel_requested = 1),
        status TEXT GENERATED ALWAYS AS (CASE
          WHEN blocked + scheduled + pending + running > 0 THEN 'running'
          WHEN cancel_requested = 1 OR cancelled_by_operator > 0 THEN 'cancelled'
          WHEN dead_required > 0 THEN 'failed'
          WHEN dead > 0 OR warnings > 0 THEN 'completed_with_errors'
          ELSE 'completed' END) STORED
      )`,
      `CREATE INDEX spool_workflows_by_status ON spool_workflows (status, seq)`,
      `CREATE INDEX spool_workflows_by_type ON spool_workflows (type, seq)`,
      `CREATE TRIGGER spool_workflow_job_added AFTER INSERT ON spool_jobs WHEN NEW.workflow_id IS NOT NULL
      BEGIN
        INSERT INTO spool_workflows (id, type, created_at, jobs, blocked, scheduled, pending)
          VALUES (NEW.workflow_id, NEW.type, NEW.created_at, 1,
            NEW.status = 'blocked', NEW.status = 'scheduled', NEW.status = 'pending')
          ON CONFLICT (id) DO UPDATE SET jobs = jobs + 1, blocked = blocked + excluded.blocked,
            scheduled = scheduled + excluded.scheduled, pending = pending + excluded.pending, finished_at = NULL;
      END`,
      `CREATE TRIGGER spool_workflow_job_moved AFTER UPDATE OF status ON spool_jobs
        WHEN NEW.workflow_id IS NOT NULL AND OLD.status <> NEW.status
      BEGIN
        UPDATE spool_workflows SET
          ${COUNTED.map((status) => `${status} = ${status} + (NEW.status = '${status}') - (OLD.status = '${status}')`).join(",\n          ")},
          dead_required = dead_required + (NEW.status = 'dead' AND NEW.optional IS NULL) - (OLD.status = 'dead' AND OLD.optional IS NULL),
          cancelled_by_operator = cancelled_by_operator + (NEW.status = 'cancelled' AND NEW.cancelled_by IS NULL)
            - (OLD.status = 'cancelled' AND OLD.cancelled_by IS NULL),
          finished_at = CASE WHEN blocked + scheduled + pending + running + (NEW.finished_at IS NULL) - (OLD.finished_at IS NULL) = 0
            THEN coalesce(NEW.finished_at, finished_at) ELSE NULL END
        WHERE id = NEW.workflow_id;
      END`,
      // warnings are written just before the outcome that ends their attempt (complete-jobs.ts)
      `CREATE TRIGGER spool_workflow_job_warned AFTER UPDATE OF warnings ON spool_jobs
        WHEN NEW.workflow_id IS NOT NULL AND NEW.warnings IS NOT OLD.warnings
      BEGIN
        UPDATE spool_workflows SET
          warnings = warnings + coalesce(json_array_length(NEW.warnings), 0) - coalesce(json_array_length(OLD.warnings), 0)
        WHERE id = NEW.workflow_id;
      END`,
    ],
  },
  {
    version: 6,
    name: "finished counts, per-minute stats, workers",
    statements: [
      // Finished jobs by queue, type and status, kept by triggers so that
      // /stats and /metrics count a million jobs without reading them: a count
      // over the finished index took 230-320 ms at 1M jobs. Only entering or
      // leaving a final status (and deleting a finished job) touches it, so a
      // claim pays nothing and a completion one upsert. Active statuses are
      // counted live from their own partial indexes (stats.ts).
      `CREATE TABLE spool_job_counts (
        queue TEXT NOT NULL,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (queue, type, status)
      ) WITHOUT ROWID`,
      `INSERT INTO spool_job_counts (queue, type, status, n)
        SELECT queue, type, status, count(*) FROM spool_jobs WHERE finished_at IS NOT NULL GROUP BY queue, type, status`,
      `CREATE TRIGGER spool_count_finished AFTER UPDATE OF status ON spool_jobs
        WHEN NEW.finished_at IS NOT NULL AND OLD.finished_at IS NULL
      BEGIN
        INSERT INTO spool_job_counts (queue, type, status, n) VALUES (NEW.queue, NEW.type, NEW.status, 1)
          ON CONFLICT (queue, type, status) DO UPDATE SET n = n + 1;
      END`,
      `CREATE TRIGGER spool_count_reopened AFTER UPDATE OF status ON spool_jobs
        WHEN OLD.finished_at IS NOT NULL AND NEW.finished_at IS NULL
      BEGIN
        UPDATE spool_job_counts SET n = n - 1 WHERE queue = OLD.queue AND type = OLD.type AND status = OLD.status;
      END`,
      `CREATE TRIGGER spool_count_deleted AFTER DELETE ON spool_jobs
        WHEN OLD.finished_at IS NOT NULL
      BEGIN
        UPDATE spool_job_counts SET n = n - 1 WHERE queue = OLD.queue AND type = OLD.type AND status = OLD.status;
      END`,
      // Per minute (epoch ms of its start) and type, what the workers saw:
      // each process adds its counts about once a second (recorder.ts).
      `CREATE TABLE spool_stats_minutes (
        minute INTEGER NOT NULL,
        type TEXT NOT NULL,
        completed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        dead INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (minute, type)
      ) WITHOUT ROWID`,
      // Run and wait times as log-scale histograms (histogram.ts), per minute and type.
      `CREATE TABLE spool_stats_latency (
        minute INTEGER NOT NULL,
        type TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind = 'run' OR kind = 'wait'),
        bucket INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (minute, type, kind, bucket)
      ) WITHOUT ROWID`,
      `CREATE TABLE spool_workers (
        id TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 7,
    name: "active indexes hold each job's type and queue",
    // /stats, /metrics and /queues count the active jobs by queue and type.
    // The four partial indexes of the active statuses now end with those
    // columns, so the counts read index entries alone: reading each job's row
    // made pending counts cost 77 ms at 50,000 pending jobs. The leading
    // columns, which the claim, promotion, lease expiry and pages walk in
    // order, are unchanged; a trailing column only lengthens each entry a
    // claim or completion writes anyway (no extra index, trigger or write).
    statements: [
      `DROP INDEX spool_jobs_ready`,
      `CREATE INDEX spool_jobs_ready ON spool_jobs (type, effective_priority DESC, run_at, id, queue) WHERE status = 'pending'`,
      `DROP INDEX spool_jobs_due`,
      `CREATE INDEX spool_jobs_due ON spool_jobs (run_at, type, queue) WHERE status = 'scheduled'`,
      `DROP INDEX spool_jobs_leases`,
      `CREATE INDEX spool_jobs_leases ON spool_jobs (lease_expires_at, type, queue) WHERE status = 'running'`,
      `DROP INDEX spool_jobs_blocked`,
      `CREATE INDEX spool_jobs_blocked ON spool_jobs (id, type, queue) WHERE status = 'blocked'`,
    ],
  },
  {
    version: 8,
    name: "jobs join their workflow after the insert, not through an insert trigger",
    // An AFTER INSERT trigger runs for every row inserted, whatever its WHEN
    // says: 13% of enqueue's CPU for jobs that are in no workflow. New jobs
    // of a workflow are inserted with its id in joining_workflow, and the
    // statement that inserted them is followed, in the same batch, by
    // JOIN_WORKFLOWS (insert-jobs.ts), whose UPDATE OF workflow_id fires the
    // trigger below once per joining job. Nothing else ever sets workflow_id.
    statements: [
      `ALTER TABLE spool_jobs ADD COLUMN joining_workflow TEXT`,
      `CREATE INDEX spool_jobs_joining ON spool_jobs (id) WHERE joining_workflow IS NOT NULL`,
      `DROP TRIGGER spool_workflow_job_added`,
      `CREATE TRIGGER spool_workflow_job_joined AFTER UPDATE OF workflow_id ON spool_jobs
        WHEN NEW.workflow_id IS NOT NULL AND OLD.workflow_id IS NULL
      BEGIN
        INSERT INTO spool_workflows (id, type, created_at, jobs, ${COUNTED.join(", ")})
          VALUES (NEW.workflow_id, NEW.type, NEW.created_at, 1, ${COUNTED.map((status) => `NEW.status = '${status}'`).join(", ")})
          ON CONFLICT (id) DO UPDATE SET jobs = jobs + 1,
            ${COUNTED.map((status) => `${status} = ${status} + excluded.${status}`).join(", ")}, finished_at = NULL;
      END`,
    ],
  },
];
