/**
 * A worker's services on a fresh database with a clock the test moves, driven
 * one `runOnce(now)` at a time instead of by their loops.
 */
import { type Clock, systemClock } from "../../src/core/clock.ts";
import { silentLogger } from "../../src/core/logger.ts";
import { SpoolWorker } from "../../src/services/spool-worker.ts";
import type { Spool } from "../../src/spool.ts";
import { openSpool } from "./system.ts";
import { storeOf, typesOf } from "./internals.ts";

/** Time stands where the test puts it (`t`); sleeps are real, so work in flight still finishes. */
export interface SettableClock extends Clock {
  t: number;
}

export function settableClock(t = Date.UTC(2030, 0, 1)): SettableClock {
  return {
    t,
    now() {
      return this.t;
    },
    sleep: (ms, signal) => systemClock.sleep(ms, signal),
  };
}

/** A Spool and an unstarted SpoolWorker sharing one settable clock; `cleanup` closes both. */
export async function servicesOnClock(options: { concurrency?: number; leaseMs?: number; workerId?: string } = {}): Promise<{
  spool: Spool;
  worker: SpoolWorker;
  clock: SettableClock;
  lease: (id: string) => Promise<{ status: string; startedAt: number | null; leaseExpiresAt: number | null; workerId: string | null }>;
  cleanup: () => Promise<void>;
}> {
  const clock = settableClock();
  const workerId = options.workerId ?? "unit-worker";
  const { spool, cleanup } = await openSpool({ clock, workerId });
  const worker = new SpoolWorker({
    store: storeOf(spool), types: typesOf(spool), clock, logger: silentLogger, workerId, concurrency: options.concurrency ?? 10,
    queues: null, leaseMs: options.leaseMs ?? 1000, maxPayloadBytes: spool.maxPayloadBytes, newToken: () => crypto.randomUUID(),
  });
  const lease = async (id: string) => {
    const { rows } = await storeOf(spool).db.execute({
      sql: "SELECT status, started_at, lease_expires_at, worker_id FROM spool_jobs WHERE id = ?",
      args: [Number(id)],
    });
    const row = rows[0]!;
    const num = (v: unknown) => (v === null ? null : Number(v));
    return { status: String(row.status), startedAt: num(row.started_at), leaseExpiresAt: num(row.lease_expires_at), workerId: row.worker_id === null ? null : String(row.worker_id) };
  };
  return {
    spool, worker, clock, lease,
    cleanup: async () => {
      await worker.stop({ graceMs: 0 });
      await cleanup();
    },
  };
}
