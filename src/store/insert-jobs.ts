/**
 * Enqueue statements. Jobs without an idempotency key go in bulk, as
 * multi-row `INSERT ... VALUES` statements of fixed sizes (so each is prepared
 * once); a keyed job gets the three statements that make "insert unless the
 * key is held" atomic in its batch.
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
const ROWS_PER_STATEMENT = [100, 10, 1] as const;
const insertValuesSql = (rows: number) => {
  const row = `(${Array(VALUES_PER_ROW).fill("?").join(", ")})`;
  return `INSERT INTO spool_jobs (${INSERT_COLUMNS}) VALUES ${Array(rows).fill(row).join(", ")}`;
};
const INSERT_VALUES = new Map(ROWS_PER_STATEMENT.map((rows) => [rows, insertValuesSql(rows)]));

// Over a network it is the other way round: every bound value travels as a
// typed JSON object of the protocol, so 1,000 rows go as one JSON string
// (about 4x the enqueue rate through a libSQL server on loopback).
const ROWS_PER_JSON_STATEMENT = 1000;
const INSERT_FROM_JSON = `INSERT INTO spool_jobs (${INSERT_COLUMNS}) ${SELECT_FROM_TUPLES}`;

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
  let bulk: number[] = [];
  const bulkPlans: Array<{ statement: number; indexes: number[] }> = [];
  const keyedPlans: Array<{ insert: number; holder: number; index: number }> = [];
  const flushBulk = () => {
    if (!db.isLocalFile) {
      for (let start = 0; start < bulk.length; start += ROWS_PER_JSON_STATEMENT) {
        const indexes = bulk.slice(start, start + ROWS_PER_JSON_STATEMENT);
        bulkPlans.push({ statement: statements.length, indexes });
        statements.push({ sql: INSERT_FROM_JSON, args: { rows: JSON.stringify(indexes.map((i) => jobRowToTuple(rows[i]!))) } });
      }
      bulk = [];
      return;
    }
    let start = 0;
    for (const size of ROWS_PER_STATEMENT) {
      while (bulk.length - start >= size) {
        const indexes = bulk.slice(start, start + size);
        bulkPlans.push({ statement: statements.length, indexes });
        const values: unknown[] = [];
        for (const i of indexes) pushJobRowValues(values, rows[i]!);
        statements.push({ sql: INSERT_VALUES.get(size)!, args: values });
        start += size;
      }
    }
    bulk = [];
  };
  rows.forEach((row, index) => {
    if (row.idempotencyKey === null) {
      bulk.push(index);
      return;
    }
    // keep input order among keyed and unkeyed jobs so ids ascend as given
    flushBulk();
    const key = { type: row.type, key: row.idempotencyKey };
    statements.push({ sql: RELEASE_EXPIRED_KEY_SQL, args: { ...key, now } });
    keyedPlans.push({ insert: statements.length, holder: statements.length + 1, index });
    statements.push({ sql: INSERT_KEYED, args: { rows: JSON.stringify([jobRowToTuple(row)]) } });
    statements.push({ sql: HOLDER_OF_KEY_SQL, args: key });
  });
  flushBulk();
  if (statements.length === 0) return [];
  const results = await db.batch(statements, "write");
  const out: InsertResult[] = new Array(rows.length);
  for (const { statement, indexes } of bulkPlans) {
    const { rowsAffected, lastInsertRowid } = results[statement]!;
    const last = Number(lastInsertRowid);
    if (rowsAffected !== indexes.length || !Number.isSafeInteger(last)) {
      throw new Error(`insert of ${indexes.length} jobs reported ${rowsAffected} rows ending at rowid ${String(lastInsertRowid)}`);
    }
    const first = last - indexes.length + 1;
    indexes.forEach((inputIndex, i) => (out[inputIndex] = { id: String(first + i), deduplicated: false }));
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
