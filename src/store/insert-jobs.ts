/**
 * Enqueue statements. Jobs enqueued together mostly differ only in their
 * payload: a run of such jobs goes as one statement that binds the shared
 * values once and reads the payloads from one JSON array. Other jobs without
 * an idempotency key go in bulk, as multi-row `INSERT ... VALUES` statements
 * of fixed sizes (so each is prepared once); a keyed job gets the three
 * statements that make "insert unless the key is held" atomic in its batch.
 */
import type { SqlStatement } from "./file-connection.ts";
import type { NewJobRow } from "../core/job.ts";
import type { Database } from "./database.ts";
import { jobRowToTuple, pushJobRowValues } from "./job-row.ts";

const INSERT_COLUMNS = `type, queue, payload, status, priority, effective_priority, max_attempts, run_at, created_at,
  timeout_ms, backoff, idempotency_key, idempotency_window_ms, idempotency_held, workflow_id, parent_id,
  schedule_name, scheduled_for`;

// one value per column of INSERT_COLUMNS, in its order (job-row.ts), both as
// bound values and in the JSON tuples read with ->>
const VALUES_PER_ROW = 18;

const SELECT_FROM_TUPLES = `SELECT ${Array.from({ length: VALUES_PER_ROW }, (_, i) => `value->>${i}`).join(", ")} FROM json_each(:rows)`;

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

// A run binds the 18 values of its first job, except that the payload's
// place holds the JSON array of every payload in the run: the row's other
// values cross into SQLite once per run instead of once per job.
const PAYLOAD_POSITION = 2;
const INSERT_RUN = `INSERT INTO spool_jobs (${INSERT_COLUMNS}) SELECT ${Array.from({ length: VALUES_PER_ROW }, (_, i) =>
  i === PAYLOAD_POSITION ? "value" : `?${i + 1}`).join(", ")} FROM json_each(?${PAYLOAD_POSITION + 1})`;
// Shorter runs cost more as their own statement than as rows of the bulk statements.
const SHORTEST_RUN = 8;
const ROWS_PER_RUN_STATEMENT = 1000;

// `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint
const INSERT_KEYED = `INSERT INTO spool_jobs (${INSERT_COLUMNS}) ${SELECT_FROM_TUPLES} WHERE true
  ON CONFLICT (type, idempotency_key) WHERE idempotency_held = 1 DO NOTHING RETURNING id`;

// a finished job's key is free again once its window has passed
export const RELEASE_EXPIRED_KEY_SQL = `UPDATE spool_jobs INDEXED BY spool_jobs_idempotency SET idempotency_held = NULL
  WHERE type = :type AND idempotency_key = :key AND idempotency_held = 1
    AND idempotency_until IS NOT NULL AND idempotency_until <= :now`;

export const HOLDER_OF_KEY_SQL = `SELECT id FROM spool_jobs INDEXED BY spool_jobs_idempotency WHERE type = :type AND idempotency_key = :key AND idempotency_held = 1`;

const INSERT_CHILDREN = `INSERT INTO spool_jobs (${INSERT_COLUMNS}) ${SELECT_FROM_TUPLES}
  WHERE EXISTS (SELECT 1 FROM spool_jobs p WHERE p.id = :parent AND p.lease_token = :token AND p.status = 'running')
  ON CONFLICT DO NOTHING`;

export interface InsertResult {
  id: string;
  deduplicated: boolean;
}

/** Inserts jobs in one write transaction; results in input order. */
export async function insertJobs(db: Database, rows: NewJobRow[], now: number): Promise<InsertResult[]> {
  const statements: SqlStatement[] = [];
  // rows [first, first + count) get the consecutive ids that end at their statement's last_insert_rowid
  const inserts: Array<{ statement: number; first: number; count: number }> = [];
  const keyedPlans: Array<{ insert: number; holder: number; index: number }> = [];
  const insert = (first: number, count: number, statement: SqlStatement) => {
    inserts.push({ statement: statements.length, first, count });
    statements.push(statement);
  };
  // rows [bulkFrom, end) wait for bulk statements; flushing keeps input order
  // among runs, bulk and keyed jobs, so ids ascend as given
  let bulkFrom = 0;
  const flushBulk = (end: number) => {
    for (let first = bulkFrom; first < end; ) {
      const count = bulkSize(db.isLocalFile, end - first);
      insert(first, count, bulkStatement(db.isLocalFile, rows, first, count));
      first += count;
    }
    bulkFrom = end;
  };
  let index = 0;
  while (index < rows.length) {
    const row = rows[index]!;
    if (row.idempotencyKey !== null) {
      flushBulk(index);
      const key = { type: row.type, key: row.idempotencyKey };
      statements.push({ sql: RELEASE_EXPIRED_KEY_SQL, args: { ...key, now } });
      keyedPlans.push({ insert: statements.length, holder: statements.length + 1, index });
      statements.push({ sql: INSERT_KEYED, args: { rows: JSON.stringify([jobRowToTuple(row)]) } });
      statements.push({ sql: HOLDER_OF_KEY_SQL, args: key });
      bulkFrom = ++index;
      continue;
    }
    const end = endOfRun(rows, index);
    if (end - index >= SHORTEST_RUN) {
      flushBulk(index);
      for (let first = index; first < end; first += ROWS_PER_RUN_STATEMENT) {
        const count = Math.min(ROWS_PER_RUN_STATEMENT, end - first);
        insert(first, count, runStatement(rows, first, count));
      }
      bulkFrom = end;
    }
    index = end;
  }
  flushBulk(rows.length);
  if (statements.length === 0) return [];
  const results = await db.batch(statements, "write");
  const out: InsertResult[] = new Array(rows.length);
  for (const { statement, first, count } of inserts) {
    const { rowsAffected, lastInsertRowid } = results[statement]!;
    const last = Number(lastInsertRowid);
    if (rowsAffected !== count || !Number.isSafeInteger(last)) {
      throw new Error(`insert of ${count} jobs reported ${rowsAffected} rows ending at rowid ${String(lastInsertRowid)}`);
    }
    for (let i = 0; i < count; i++) out[first + i] = { id: String(last - count + 1 + i), deduplicated: false };
  }
  for (const { insert, holder, index } of keyedPlans) {
    const inserted = results[insert]!.rows.length > 0;
    out[index] = { id: String(results[holder]!.rows[0]!.id), deduplicated: !inserted };
  }
  return out;
}

/**
 * Statements that insert a job's staged children only if `parentId` is still
 * running under `token` in the same transaction that completes it.
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
    args: { rows: JSON.stringify(children.map(jobRowToTuple)), parent: Number(parentId), token },
  });
  return statements;
}

/** The end (exclusive) of the run of unkeyed jobs from `start` that share every value but the payload. */
function endOfRun(rows: NewJobRow[], start: number): number {
  const first = rows[start]!;
  let end = start + 1;
  while (end < rows.length && sameButPayload(first, rows[end]!)) end++;
  return end;
}

// Every field of a new job's row but its payload, written out: a loop over
// field names cost a tenth of enqueueMany. insert-jobs.test.ts changes each
// field in turn and fails if one is missing here.
function sameButPayload(a: NewJobRow, b: NewJobRow): boolean {
  return a.type === b.type && a.queue === b.queue && a.status === b.status && a.priority === b.priority &&
    a.maxAttempts === b.maxAttempts && a.runAt === b.runAt && a.createdAt === b.createdAt &&
    a.timeoutMs === b.timeoutMs && a.backoff === b.backoff && a.idempotencyKey === b.idempotencyKey &&
    a.idempotencyWindowMs === b.idempotencyWindowMs && a.workflowId === b.workflowId &&
    a.parentId === b.parentId && a.scheduleName === b.scheduleName && a.scheduledFor === b.scheduledFor;
}

function runStatement(rows: NewJobRow[], first: number, count: number): SqlStatement {
  const values = jobRowToTuple(rows[first]!);
  const payloads: string[] = new Array(count);
  for (let i = 0; i < count; i++) payloads[i] = rows[first + i]!.payload;
  values[PAYLOAD_POSITION] = JSON.stringify(payloads);
  return { sql: INSERT_RUN, args: values };
}

/** How many of `remaining` rows the next bulk statement takes. */
function bulkSize(isLocalFile: boolean, remaining: number): number {
  if (!isLocalFile) return Math.min(ROWS_PER_JSON_STATEMENT, remaining);
  return ROWS_PER_STATEMENT.find((size) => size <= remaining)!;
}

function bulkStatement(isLocalFile: boolean, rows: NewJobRow[], first: number, count: number): SqlStatement {
  const chunk = rows.slice(first, first + count);
  if (!isLocalFile) return { sql: INSERT_FROM_JSON, args: { rows: JSON.stringify(chunk.map(jobRowToTuple)) } };
  const values: unknown[] = [];
  for (const row of chunk) pushJobRowValues(values, row);
  return { sql: INSERT_VALUES.get(count)!, args: values };
}
