/**
 * The parts of a Spool its public face keeps to itself (store, job types),
 * for tests that set up a state no public operation makes: a claim
 * by a worker that then vanishes, a full disk, a service run on its own.
 */
import type { JobTypes } from "../../src/core/job-types.ts";
import type { Spool } from "../../src/spool.ts";
import type { Store } from "../../src/store/store.ts";

interface Internals {
  store: Store;
  types: JobTypes;
}

/** The store a Spool writes through. */
export function storeOf(spool: Spool): Store {
  return (spool as unknown as Internals).store;
}

/** The job types defined on a Spool. */
export function typesOf(spool: Spool): JobTypes {
  return (spool as unknown as Internals).types;
}
