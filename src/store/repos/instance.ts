import type { RunStatus } from "../../core/run-lifecycle.js";
import type { Executor } from "../executor.js";

/** Figures across every organization, for the operator of the installation (its metrics). */
export class InstanceRepo {
  constructor(private readonly db: Executor) {}

  /** Stored (not soft-deleted) runs by status; statuses without runs are absent. */
  async runsByStatus(): Promise<Partial<Record<RunStatus, number>>> {
    const rows = await this.db.all<{ status: RunStatus; n: number }>("SELECT status, count(*) AS n FROM runs WHERE deleted_at IS NULL GROUP BY status");
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }
}
