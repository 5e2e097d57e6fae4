/**
 * Keeps the leases of this process's running jobs, and of the jobs it claimed
 * ahead, alive: one statement renews them all. A job whose lease is gone (it ran too long unrenewed and another
 * worker took it over) or that an operator cancelled is told to stop through
 * its signal.
 */
import type { Clock } from "../core/clock.ts";
import type { ClaimedJob } from "../core/job.ts";
import type { Logger } from "../core/logger.ts";
import type { Store } from "../store/store.ts";
import type { Executor } from "./executor.ts";
import { type ServiceHealth, ServiceLoop } from "./loop.ts";

export interface HeartbeatOptions {
  store: Store;
  executor: Executor;
  clock: Clock;
  logger: Logger;
  leaseMs: number;
  /**
   * Jobs claimed ahead and not started yet: leased like running ones, so
   * renewed with them. `lost` is told of each whose lease is gone.
   */
  claimedAhead?: { jobs(): readonly ClaimedJob[]; lost(id: string): void };
}

export class Heartbeat {
  readonly #options: HeartbeatOptions;
  readonly #loop: ServiceLoop;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
    this.#loop = new ServiceLoop({ name: "heartbeat", clock: options.clock, logger: options.logger, runOnce: (now) => this.runOnce(now) });
  }

  get intervalMs(): number {
    return Math.max(50, Math.floor(this.#options.leaseMs / 3));
  }

  start(): void {
    this.#loop.start();
  }

  /** Whether this service's passes are failing now, since when, and the last error. */
  get health(): ServiceHealth {
    return this.#loop.health;
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Renews every running job's lease, or only `onlyId`'s. Returns the ms until the next pass. */
  async runOnce(now: number, onlyId?: string): Promise<number> {
    const { store, executor, leaseMs } = this.#options;
    // a cancelled attempt whose handler still runs keeps its lease until it ends
    const entries = [...executor.running.values()].filter(
      (e) => (e.stopReason === null || e.stopReason === "cancelled") && (onlyId === undefined || e.job.id === onlyId),
    );
    const ahead = onlyId === undefined ? [...(this.#options.claimedAhead?.jobs() ?? [])] : [];
    if (entries.length === 0 && ahead.length === 0) return this.intervalMs;
    const { renewed, cancelRequested } = await store.renewLeases(
      [...entries.map((e) => ({ id: e.job.id, token: e.job.leaseToken })), ...ahead.map((job) => ({ id: job.id, token: job.leaseToken }))],
      now + leaseMs,
    );
    // a cancel asked for a buffered job reaches its handler's signal once it starts
    for (const job of ahead) if (!renewed.has(job.id)) this.#options.claimedAhead!.lost(job.id);
    for (const entry of entries) {
      const id = entry.job.id;
      if (!renewed.has(id)) {
        // An attempt whose outcome is decided has left `running` when the
        // completer wrote it first: its renewal finds no running row, which
        // is not a lost lease. If the lease really was lost, the completer's
        // write says so (the executor logs the discarded outcome).
        if (entry.settled) continue;
        this.#options.logger.warn("lease lost; stopping the attempt", { jobId: id, type: entry.job.type });
        executor.stop(id, "lease_lost");
      } else if (cancelRequested.has(id)) {
        executor.stop(id, "cancelled");
      }
    }
    return this.intervalMs;
  }
}
