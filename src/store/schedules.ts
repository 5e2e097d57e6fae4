/**
 * Cron schedules in the database, and the tick insert that makes a schedule
 * fire exactly once per fire time however many schedulers run: each tick's job
 * carries (schedule_name, scheduled_for), which a unique index guards, so a
 * second insert of the same tick is dropped by ON CONFLICT DO NOTHING. The
 * insert and the schedule's bookkeeping are one write batch, conditional on the
 * schedule still being unpaused, unchanged and due at the tick the caller saw.
 */
import type { NewJobRow } from "../core/job.ts";
import type { CatchUp, ScheduleEnqueueOptions, ScheduleSpec } from "../core/schedule.ts";
import type { Database } from "./database.ts";
import { INSERT_COLUMNS, JOIN_WORKFLOWS, tupleValues } from "./insert-jobs.ts";
import { jobRowToTuple } from "./job-row.ts";

const COLUMNS = `name, cron, timezone, type, payload, options, catch_up, no_overlap, paused, last_fire_at, next_fire_at,
  created_at, updated_at`;

// A changed expression or zone starts over from the next tick after now; an
// unchanged one keeps its next fire time, so a restarted worker that defines
// its schedules again still catches up what it missed. Pausing is an
// operator's decision and survives redefinition.
const UPSERT = `INSERT INTO spool_schedules (${COLUMNS})
  VALUES (:name, :cron, :timezone, :type, :payload, :options, :catchUp, :noOverlap, 0, NULL, :next, :now, :now)
  ON CONFLICT (name) DO UPDATE SET
    next_fire_at = CASE WHEN cron = excluded.cron AND timezone IS excluded.timezone AND next_fire_at IS NOT NULL
      THEN next_fire_at ELSE excluded.next_fire_at END,
    cron = excluded.cron, timezone = excluded.timezone, type = excluded.type, payload = excluded.payload,
    options = excluded.options, catch_up = excluded.catch_up, no_overlap = excluded.no_overlap,
    updated_at = CASE WHEN cron = excluded.cron AND timezone IS excluded.timezone AND type = excluded.type
      AND payload = excluded.payload AND options = excluded.options AND catch_up = excluded.catch_up
      AND no_overlap = excluded.no_overlap THEN updated_at ELSE excluded.updated_at END`;

const DELETE = `DELETE FROM spool_schedules WHERE name = :name`;

const LIST = `SELECT ${COLUMNS} FROM spool_schedules ORDER BY name`;

const GET = `SELECT ${COLUMNS} FROM spool_schedules WHERE name = :name`;

const PAUSE = `UPDATE spool_schedules SET paused = 1 WHERE name = :name RETURNING name`;

// ticks that passed while paused are not caught up: the schedule resumes at its
// next tick after now (computed by the caller from the stored expression)
const RESUME = `UPDATE spool_schedules SET paused = 0,
    next_fire_at = CASE WHEN paused = 1 THEN :next ELSE next_fire_at END
  WHERE name = :name AND cron = :cron AND timezone IS :timezone RETURNING name`;

// Tuples hold a row's values in INSERT_COLUMNS order (insert-jobs.ts,
// job-row.ts); the schedule's own columns (no key, no parent, its name)
// override theirs.
// One row per tick, joined to the schedule so the insert happens only while the
// schedule is unpaused, has the expression the ticks were computed from, and
// still waits for the tick the caller saw (a scheduler that lost the race adds
// nothing). noOverlap is decided here too, inside the write transaction.
const INSERT_TICKS = `INSERT INTO spool_jobs (${INSERT_COLUMNS})
  SELECT ${tupleValues("t.value", { idempotency_key: "NULL", idempotency_held: "NULL", parent_id: "NULL", schedule_name: "s.name" })}
  FROM spool_schedules s, json_each(:rows) AS t
  WHERE s.name = :name AND s.paused = 0 AND s.cron = :cron AND s.timezone IS :timezone
    AND s.next_fire_at = :expected
    AND (:noOverlap = 0 OR NOT EXISTS (
      SELECT 1 FROM spool_jobs j INDEXED BY spool_jobs_schedule_active
      -- the same OR chain as the index's WHERE, so SQLite sees that the index covers it
      WHERE j.schedule_name = :name AND (j.status = 'scheduled' OR j.status = 'pending' OR j.status = 'running')))
  ON CONFLICT DO NOTHING
  RETURNING id, scheduled_for`;

const ADVANCE = `UPDATE spool_schedules SET next_fire_at = :next,
    last_fire_at = coalesce((SELECT scheduled_for FROM spool_jobs WHERE schedule_name = :name
      ORDER BY scheduled_for DESC LIMIT 1), last_fire_at)
  WHERE name = :name AND paused = 0 AND cron = :cron AND timezone IS :timezone AND next_fire_at = :expected`;

/** A schedule as stored, with its fire times (epoch ms). */
export interface ScheduleRecord {
  name: string;
  cron: string;
  /** IANA zone, or null for UTC. */
  timezone: string | null;
  type: string;
  payload: unknown;
  options: ScheduleEnqueueOptions;
  catchUp: CatchUp;
  noOverlap: boolean;
  paused: boolean;
  /** The newest tick that enqueued a job, or null before the first. */
  lastFireAt: number | null;
  /** The next tick a scheduler waits for, or null when the expression never fires again. */
  nextFireAt: number | null;
  createdAt: number;
  /** When the definition last changed. */
  updatedAt: number;
}

function rowToSchedule(row: Record<string, unknown>): ScheduleRecord {
  return {
    name: String(row.name),
    cron: String(row.cron),
    timezone: row.timezone === null ? null : String(row.timezone),
    type: String(row.type),
    payload: JSON.parse(String(row.payload)),
    options: JSON.parse(String(row.options)) as ScheduleEnqueueOptions,
    catchUp: String(row.catch_up) as CatchUp,
    noOverlap: Number(row.no_overlap) === 1,
    paused: Number(row.paused) === 1,
    lastFireAt: row.last_fire_at === null ? null : Number(row.last_fire_at),
    nextFireAt: row.next_fire_at === null ? null : Number(row.next_fire_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Creates or redefines a schedule (see UPSERT for what redefinition keeps). */
export async function upsertSchedule(db: Database, spec: ScheduleSpec, nextFireAt: number | null, now: number): Promise<void> {
  await db.execute({
    sql: UPSERT,
    args: {
      name: spec.name,
      cron: spec.cron,
      timezone: spec.timezone,
      type: spec.type,
      payload: spec.payload,
      options: JSON.stringify(spec.options),
      catchUp: spec.catchUp,
      noOverlap: spec.noOverlap ? 1 : 0,
      next: nextFireAt,
      now,
    },
  });
}

/** Removes a schedule; jobs it already enqueued stay. True when there was one. */
export async function deleteSchedule(db: Database, name: string): Promise<boolean> {
  const result = await db.execute({ sql: DELETE, args: { name } });
  return result.rowsAffected > 0;
}

/** Every schedule, by name. */
export async function listSchedules(db: Database): Promise<ScheduleRecord[]> {
  const result = await db.execute(LIST);
  return result.rows.map((r) => rowToSchedule(r as unknown as Record<string, unknown>));
}

export async function getSchedule(db: Database, name: string): Promise<ScheduleRecord | null> {
  const result = await db.execute({ sql: GET, args: { name } });
  const row = result.rows[0];
  return row ? rowToSchedule(row as unknown as Record<string, unknown>) : null;
}

/** Pauses a schedule in every process. False when there is no such schedule. */
export async function pauseSchedule(db: Database, name: string): Promise<boolean> {
  const result = await db.execute({ sql: PAUSE, args: { name } });
  return result.rows.length > 0;
}

/**
 * Resumes a paused schedule at `nextFireAt`, computed from the expression and
 * zone the caller read; false when the schedule is gone or was redefined since.
 */
export async function resumeSchedule(
  db: Database,
  schedule: { name: string; cron: string; timezone: string | null },
  nextFireAt: number | null,
): Promise<boolean> {
  const result = await db.execute({
    sql: RESUME,
    args: { name: schedule.name, cron: schedule.cron, timezone: schedule.timezone, next: nextFireAt },
  });
  return result.rows.length > 0;
}

export interface FireRequest {
  name: string;
  /** The expression and zone the ticks were computed from. */
  cron: string;
  timezone: string | null;
  /** The schedule's next fire time as the caller read it. */
  expected: number;
  /** One job per tick to enqueue, each with scheduleName and scheduledFor set. */
  rows: NewJobRow[];
  noOverlap: boolean;
  /** The schedule's next fire time after this pass, or null for never. */
  nextFireAt: number | null;
}

/**
 * Inserts the ticks' jobs and advances the schedule, in one write batch.
 * Returns the ticks this call enqueued (others were enqueued already, skipped
 * by noOverlap, or the schedule was paused, changed or advanced meanwhile).
 */
export async function fireScheduleTicks(db: Database, request: FireRequest): Promise<Array<{ id: string; scheduledFor: number }>> {
  const where = { name: request.name, cron: request.cron, timezone: request.timezone, expected: request.expected };
  const statements = [];
  if (request.rows.length > 0) {
    statements.push({
      sql: INSERT_TICKS,
      args: { ...where, rows: JSON.stringify(request.rows.map(jobRowToTuple)), noOverlap: request.noOverlap ? 1 : 0 },
    });
  }
  if (request.rows.some((row) => row.workflowId !== null)) statements.push(JOIN_WORKFLOWS);
  statements.push({ sql: ADVANCE, args: { ...where, next: request.nextFireAt } });
  const results = await db.batch(statements, "write");
  if (request.rows.length === 0) return [];
  return results[0]!.rows
    .map((r) => ({ id: String(r.id), scheduledFor: Number(r.scheduled_for) }))
    .sort((a, b) => a.scheduledFor - b.scheduledFor);
}
