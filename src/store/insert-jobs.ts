/**
 * Enqueue statements. Jobs enqueued together mostly differ only in their
 * payload: a run of such jobs goes as one statement that binds the shared
 * values once and reads the payloads from one JSON array. Other jobs without
 * an idempotency key go in bulk, as multi-row `INSERT ... VALUES` statements
 * of fixed sizes (so each is prepared once); a keyed job gets the three
 * statements that make "insert unless the key is held" atomic in its batch.
 */
import type { SqlStatement } from "./connection.ts";
import type { NewJobRow, NewJobRun } from "../core/job.ts";
import type { Database } from "./database.ts";
import { dependOnIdsStatements, dependOnStagedStatements, settleStatements } from "./dependencies.ts";
import { isExtendedRow, jobRowToExtendedTuple, jobRowToTuple, pushJobRowValues } from "./job-row.ts";

/**
 * The columns a new job's row sets, in the order of its tuple (job-row.ts):
 * the one layout every insert of jobs is built from, the cron tick's too. A
 * job's workflow goes in joining_workflow, and a batch that inserts one
 * follows the insert with JOIN_WORKFLOWS (migration 8 says why).
 */
export const INSERT_COLUMN_NAMES = [
  "type", "queue", "payload", "status", "priority", "effective_priority", "max_attempts", "run_at", "created_at",
  "timeout_ms", "backoff", "idempotency_key", "idempotency_window_ms", "idempotency_held", "joining_workflow", "parent_id",
  "schedule_name", "scheduled_for", "options_from_type",
] as const;

/** One column of INSERT_COLUMN_NAMES. */
export type InsertColumn = (typeof INSERT_COLUMN_NAMES)[number];

/** INSERT_COLUMN_NAMES as the column list of an INSERT. */
export const INSERT_COLUMNS = INSERT_COLUMN_NAMES.join(", ");

// one value per column of INSERT_COLUMNS, in its order (job-row.ts), both as
// bound values and in the JSON tuples read with ->>
const VALUES_PER_ROW = INSERT_COLUMN_NAMES.length;

/**
 * The select list that reads a row's values out of the JSON tuple `tuple`
 * (`tuple->>0`, ...) in INSERT_COLUMNS order; `instead` puts an SQL
 * expression in a column's place.
 */
export function tupleValues(tuple: string, instead: Partial<Record<InsertColumn, string>> = {}): string {
  return INSERT_COLUMN_NAMES.map((column, i) => instead[column] ?? `${tuple}->>${i}`).join(", ");
}

const SELECT_FROM_TUPLES = `SELECT ${tupleValues("value")} FROM json_each(:rows)`;

// The workflow columns, after INSERT_COLUMNS in an extended tuple (job-row.ts).
// Only keyed, staged and workflow-option jobs carry them.
const EXTENDED_COLUMNS = `${INSERT_COLUMNS}, optional, on_dependency_failure, stage`;
const SELECT_FROM_EXTENDED_TUPLES = `SELECT ${Array.from({ length: VALUES_PER_ROW + 3 }, (_, i) => `value->>${i}`).join(", ")} FROM json_each(:rows)`;

// Bound values cost less per row than extracting the same values from JSON
// (about 1.4x the insert rate here). Row counts come from a few fixed sizes,
// so a batch of any length uses at most three distinct statements. No
// RETURNING (a quarter of the insert's cost): SQLite gives each new row the
// largest rowid so far plus one, so one statement's rows hold the consecutive
// ids that end at its last_insert_rowid.
const ROWS_PER_STATEMENT: readonly number[] = [100, 10, 1];
const insertValuesSql = (rows: number) => {
  const row = `(${Array(VALUES_PER_ROW).fill("?").join(", ")})`;
  return `INSERT INTO spool_jobs (${INSERT_COLUMNS}) VALUES ${Array(rows).fill(row).join(", ")}`;
};
const INSERT_VALUES = new Map<number, string>(ROWS_PER_STATEMENT.map((rows) => [rows, insertValuesSql(rows)]));

// Over a network it is the other way round: every bound value travels as a
// typed JSON object of the protocol, so 1,000 rows go as one JSON string
// (about 4x the enqueue rate through a libSQL server on loopback).
const ROWS_PER_JSON_STATEMENT = 1000;
const INSERT_FROM_JSON = `INSERT INTO spool_jobs (${INSERT_COLUMNS}) ${SELECT_FROM_TUPLES}`;

// A run binds the 19 values of its first job, except that the payload's
// place holds the JSON array of every payload in the run: the row's other
// values cross into SQLite once per run instead of once per job.
const PAYLOAD_POSITION = 2;
const INSERT_RUN = `INSERT INTO spool_jobs (${INSERT_COLUMNS}) SELECT ${Array.from({ length: VALUES_PER_ROW }, (_, i) =>
  i === PAYLOAD_POSITION ? "value" : `?${i + 1}`).join(", ")} FROM json_each(?${PAYLOAD_POSITION + 1})`;
// Shorter runs cost more as their own statement than as rows of the bulk
// statements: runs of 2 went at 0.65x the bulk rate here, 3 even, 4 at 1.5x.
const SHORTEST_RUN = 4;
const ROWS_PER_RUN_STATEMENT = 1000;

// `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint
const INSERT_ONE = `INSERT INTO spool_jobs (${EXTENDED_COLUMNS}) ${SELECT_FROM_EXTENDED_TUPLES} WHERE true
  ON CONFLICT (type, idempotency_key) WHERE idempotency_held = 1 DO NOTHING RETURNING id`;

// a finished job's key is free again once its window has passed
export const RELEASE_EXPIRED_KEY_SQL = `UPDATE spool_jobs INDEXED BY spool_jobs_idempotency SET idempotency_held = NULL
  WHERE type = :type AND idempotency_key = :key AND idempotency_held = 1
    AND idempotency_until IS NOT NULL AND idempotency_until <= :now`;

export const HOLDER_OF_KEY_SQL = `SELECT id FROM spool_jobs INDEXED BY spool_jobs_idempotency WHERE type = :type AND idempotency_key = :key AND idempotency_held = 1`;

// a parent an operator asked to cancel may still complete, but what it staged is discarded
const INSERT_CHILDREN = `INSERT INTO spool_jobs (${EXTENDED_COLUMNS}) ${SELECT_FROM_EXTENDED_TUPLES}
  WHERE EXISTS (SELECT 1 FROM spool_jobs p WHERE p.id = :parent AND p.lease_token = :token AND p.status = 'running'
    AND p.cancel_requested = 0)
  ON CONFLICT DO NOTHING`;

/**
 * Moves the jobs just inserted with a workflow into it: their workflow_id is
 * set, which the spool_workflow_job_joined trigger counts in spool_workflows.
 * Runs in the batch that inserted them, before anything there settles them.
 */
export const JOIN_WORKFLOWS = `UPDATE spool_jobs INDEXED BY spool_jobs_joining
  SET workflow_id = joining_workflow, joining_workflow = NULL WHERE joining_workflow IS NOT NULL`;

export interface InsertResult {
  id: string;
  deduplicated: boolean;
}

/**
 * Inserts runs of new jobs in one write transaction; results in input order,
 * a run's jobs in its payloads' order. Jobs with `after` must name existing
 * job ids only (the caller checks them first); their dependencies that have
 * already finished are settled in the same transaction.
 */
export async function insertJobs(db: Database, runs: NewJobRun[], now: number): Promise<InsertResult[]> {
  const statements: SqlStatement[] = [];
  // jobs [first, first + count) get the consecutive ids that end at their statement's last_insert_rowid
  const inserts: Array<{ statement: number; first: number; count: number }> = [];
  const keyedPlans: Array<{ insert: number; holder: number; index: number }> = [];
  const insert = (first: number, count: number, statement: SqlStatement) => {
    inserts.push({ statement: statements.length, first, count });
    statements.push(statement);
  };
  // the input position of the next job
  let position = 0;
  // jobs of short runs wait here for bulk statements: always the ones just
  // before `position`. Flushing before a long run or a keyed job keeps input
  // order, so ids ascend as given.
  let bulk: NewJobRow[] = [];
  const flushBulk = () => {
    const first = position - bulk.length;
    for (let start = 0; start < bulk.length; ) {
      const count = bulkSize(db.isLocalFile, bulk.length - start);
      insert(first + start, count, bulkStatement(db.isLocalFile, bulk.slice(start, start + count)));
      start += count;
    }
    bulk = [];
  };
  let dependencies = false;
  for (const { row, payloads } of runs) {
    if (row.idempotencyKey !== null || isExtendedRow(row)) {
      flushBulk();
      for (const payload of payloads) {
        const key = row.idempotencyKey === null ? null : { type: row.type, key: row.idempotencyKey };
        if (key) statements.push({ sql: RELEASE_EXPIRED_KEY_SQL, args: { ...key, now } });
        const insertAt = statements.length;
        statements.push({ sql: INSERT_ONE, args: { rows: JSON.stringify([jobRowToExtendedTuple({ ...row, payload })]) } });
        if (row.after !== null) {
          dependencies = true;
          statements.push(...dependOnIdsStatements(row.after.map((d) => ("id" in d ? d.id : String(d.stage)))));
        }
        keyedPlans.push({ insert: insertAt, holder: key ? statements.length : -1, index: position++ });
        if (key) statements.push({ sql: HOLDER_OF_KEY_SQL, args: key });
      }
    } else if (payloads.length >= SHORTEST_RUN) {
      flushBulk();
      for (let start = 0; start < payloads.length; start += ROWS_PER_RUN_STATEMENT) {
        const chunk = payloads.slice(start, start + ROWS_PER_RUN_STATEMENT);
        insert(position + start, chunk.length, runStatement(row, chunk));
      }
      position += payloads.length;
    } else {
      bulk.push(row);
      for (let i = 1; i < payloads.length; i++) bulk.push({ ...row, payload: payloads[i]! });
      position += payloads.length;
    }
  }
  flushBulk();
  if (statements.length === 0) return [];
  if (runs.some((run) => run.row.workflowId !== null)) statements.push(JOIN_WORKFLOWS);
  if (dependencies) statements.push(...settleStatements(now));
  const results = await db.batch(statements, "write");
  const out: InsertResult[] = new Array(position);
  for (const { statement, first, count } of inserts) {
    const { rowsAffected, lastInsertRowid } = results[statement]!;
    const last = Number(lastInsertRowid);
    if (rowsAffected !== count || !Number.isSafeInteger(last)) {
      throw new Error(`insert of ${count} jobs reported ${rowsAffected} rows ending at rowid ${String(lastInsertRowid)}`);
    }
    for (let i = 0; i < count; i++) out[first + i] = { id: String(last - count + 1 + i), deduplicated: false };
  }
  for (const { insert, holder, index } of keyedPlans) {
    const inserted = results[insert]!.rows[0];
    out[index] = inserted ? { id: String(inserted.id), deduplicated: false } : { id: String(results[holder]!.rows[0]!.id), deduplicated: true };
  }
  return out;
}

/**
 * Statements that insert a job's staged children, and the `after` edges among
 * them, only if `parentId` is still running under `token` (and nobody asked to
 * cancel it) in the same transaction that completes it, and moved into
 * their workflow. The batch must end with `settleStatements` when
 * `hasDependencies` says so.
 */
export function childInsertStatements(parentId: string, token: string, children: NewJobRow[], now: number): SqlStatement[] {
  if (children.length === 0) return [];
  const statements: SqlStatement[] = [];
  for (const child of children) {
    if (child.idempotencyKey !== null) {
      statements.push({ sql: RELEASE_EXPIRED_KEY_SQL, args: { type: child.type, key: child.idempotencyKey, now } });
    }
  }
  statements.push({
    sql: INSERT_CHILDREN,
    args: { rows: JSON.stringify(children.map(jobRowToExtendedTuple)), parent: Number(parentId), token },
  });
  statements.push(...dependOnStagedStatements(parentId, children));
  if (children.some((child) => child.workflowId !== null)) statements.push(JOIN_WORKFLOWS);
  return statements;
}

function runStatement(row: NewJobRow, payloads: string[]): SqlStatement {
  const values = jobRowToTuple(row);
  values[PAYLOAD_POSITION] = JSON.stringify(payloads);
  return { sql: INSERT_RUN, args: values };
}

/** How many of `remaining` rows the next bulk statement takes. */
function bulkSize(isLocalFile: boolean, remaining: number): number {
  if (!isLocalFile) return Math.min(ROWS_PER_JSON_STATEMENT, remaining);
  return ROWS_PER_STATEMENT.find((size) => size <= remaining)!;
}

function bulkStatement(isLocalFile: boolean, rows: NewJobRow[]): SqlStatement {
  if (!isLocalFile) return { sql: INSERT_FROM_JSON, args: { rows: JSON.stringify(rows.map(jobRowToTuple)) } };
  const values: unknown[] = [];
  for (const row of rows) pushJobRowValues(values, row);
  return { sql: INSERT_VALUES.get(rows.length)!, args: values };
}
