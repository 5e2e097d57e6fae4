/**
 * Keeps the leases of this process's running jobs, and of the jobs it claimed
 * ahead, alive: one statement renews them all. A job whose lease is gone (it ran too long unrenewed and another
 * worker took it over) or that an operator cancelled is told to stop through
 * its signal.
 */
import type { Clock } from "../core/clock.ts";
import { SpoolError } from "../core/errors.ts";
import type { ClaimedJob } from "../core/job.ts";
import type { Logger } from "../core/logger.ts";
import type { Store } from "../store/store.ts";
import { CLOCK, LOGGER, checkDependencies, storeWith } from "./dependencies-check.ts";
import { type ServiceHealth, ServiceLoop } from "./loop.ts";
import type { RunningJobs } from "./running-jobs.ts";

export interface HeartbeatOptions {
  store: Store;
  /** The attempts whose leases it renews, and stops when a lease is lost or a cancel was asked. */
  running: RunningJobs;
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

  /** Throws INVALID_OPTIONS (a SpoolError) naming a missing or mistyped dependency. */
  constructor(options: HeartbeatOptions) {
    checkDependencies("heartbeat", options, { store: storeWith("renewLeases"), running: { methods: ["entries", "stop"] }, clock: CLOCK, logger: LOGGER });
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

  /**
   * Renews one running job's lease now (a handler's ctx.heartbeat()). Throws
   * LEASE_LOST (a SpoolError) when the lease is gone, and whatever the store
   * throws when the database does not answer.
   */
  async renew(id: string): Promise<void> {
    await this.runOnce(this.#options.clock.now(), id);
    if (this.#options.running.get(id)?.stopReason === "lease_lost") {
      throw new SpoolError("LEASE_LOST", `job ${id} lost its lease`);
    }
  }

  /** Renews every running job's lease, or only `onlyId`'s. Returns the ms until the next pass. */
  async runOnce(now: number, onlyId?: string): Promise<number> {
    const { store, running, leaseMs } = this.#options;
    // a cancelled attempt whose handler still runs keeps its lease until it ends
    const entries = running.entries().filter(
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
        running.stop(id, "lease_lost");
      } else if (cancelRequested.has(id)) {
        running.stop(id, "cancelled");
      }
    }
    return this.intervalMs;
  }
}
