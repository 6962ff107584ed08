import type { RunStatus } from "../core/run-lifecycle.js";
import type { Store } from "../store/store.js";

/** The installation as its operator sees it: is the database there, and how many runs it holds. */
export class InstanceService {
  constructor(private readonly store: Store) {}

  /** Resolves when the database answers; rejects with the driver's error when it does not. */
  ready(): Promise<void> {
    return this.store.ping();
  }

  /** Stored runs by status across every organization (statuses without runs are absent). */
  runsByStatus(): Promise<Partial<Record<RunStatus, number>>> {
    return this.store.read.instance.runsByStatus();
  }
}
