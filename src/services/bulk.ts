import { InvalidTransitionError } from "../core/errors.js";
import type { Actor } from "../core/model.js";
import { ACTIVE_STATUSES, isTerminal } from "../core/run-lifecycle.js";
import type { Telemetry } from "../core/telemetry.js";
import { yieldToEventLoop } from "../core/yield.js";
import { checkQuery } from "../core/input.js";
import { BulkSchema } from "../core/schemas/runs.js";
import type { RunFilter } from "../store/repos/runs.js";
import type { Store } from "../store/store.js";
import { requireWriter } from "./access.js";
import { audit } from "./audit.js";
import { parseRunFilter, type RunListQuery } from "./run-filters.js";
import { cancelTransition } from "./run-transitions.js";

export type BulkQuery = Omit<RunListQuery, "before" | "after" | "limit" | "order" | "order_by" | "ascending" | "duration_percentile"> & {
  dry_run?: boolean | null;
};

export interface BulkResult {
  dry_run: boolean;
  /** Runs the filters selected (for cancel: the active ones). */
  matched: number;
  /** Runs changed: 0 on a dry run. */
  changed: number;
}

/** Runs handled per transaction: small batches never hold locks for long. */
const BATCH = 200;

/**
 * Cancel or delete every run the list's filters select. Work goes in small batches, each
 * its own transaction, so a bulk action never stalls producers; each cancel is an ordinary
 * transition with its event and webhook. `onProgress` reports how far it got.
 */
export class BulkService {
  constructor(private readonly store: Store, private readonly telemetry: Telemetry) {}

  async cancel(actor: Actor, query: BulkQuery, onProgress?: (done: number, total: number) => void): Promise<BulkResult> {
    requireWriter(actor);
    const { dryRun, filter } = this.parse(query);
    const active = (filter.statuses ?? [...ACTIVE_STATUSES]).filter((s) => (ACTIVE_STATUSES as readonly string[]).includes(s));
    const scoped: RunFilter = { ...filter, statuses: active };
    const matched = await this.store.read.runs.count(actor.organization_id, scoped);
    if (dryRun) return { dry_run: true, matched, changed: 0 };
    let changed = 0;
    let seen = 0;
    for (;;) {
      await yieldToEventLoop();
      const batch = await this.store.read.runs.list(actor.organization_id, scoped, "created_at", { order: "asc", limit: BATCH });
      if (batch.length === 0) break;
      changed += await this.store.transaction(async (tx) => {
        let n = 0;
        for (const candidate of batch) {
          const run = await tx.runs.getForUpdate(actor.organization_id, candidate.id);
          if (run === undefined || isTerminal(run.status)) continue;
          try {
            await cancelTransition(tx, run, actor.organization_id, this.telemetry);
            n++;
          } catch (error) {
            if (!(error instanceof InvalidTransitionError)) throw error;
          }
        }
        return n;
      });
      seen += batch.length;
      onProgress?.(Math.min(seen, matched), matched);
    }
    await this.store.transaction((tx) => audit(tx, actor, "runs.bulk_cancel", { details: { ...query, changed } }));
    return { dry_run: false, matched, changed };
  }

  async delete(actor: Actor, query: BulkQuery, onProgress?: (done: number, total: number) => void): Promise<BulkResult> {
    requireWriter(actor);
    const { dryRun, filter } = this.parse(query);
    const matched = await this.store.read.runs.count(actor.organization_id, filter);
    if (dryRun) return { dry_run: true, matched, changed: 0 };
    let changed = 0;
    for (;;) {
      await yieldToEventLoop();
      const batch = await this.store.read.runs.list(actor.organization_id, filter, "created_at", { order: "asc", limit: BATCH });
      if (batch.length === 0) break;
      changed += await this.store.transaction((tx) => tx.runs.deleteMany(actor.organization_id, batch.map((r) => r.id)));
      onProgress?.(Math.min(changed, matched), matched);
    }
    await this.store.transaction((tx) => audit(tx, actor, "runs.bulk_delete", { details: { ...query, changed } }));
    return { dry_run: false, matched, changed };
  }

  private parse(query: BulkQuery): { dryRun: boolean; filter: RunFilter } {
    const { dry_run, ...filters } = checkQuery(BulkSchema, query);
    return { dryRun: dry_run ?? false, filter: parseRunFilter(filters) };
  }
}
