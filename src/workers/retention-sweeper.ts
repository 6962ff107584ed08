/**
 * The retention sweeper: deletes ended runs older than their organization's policy allows
 * (per status when the policy says so) and purges soft-deleted runs after the grace period
 * — with their steps, messages, metrics, events and deliveries. It deletes in small batches,
 * one transaction each, and gives the event loop a turn between batches (SQLite runs each
 * statement synchronously), so it never holds long locks or stalls requests; on PostgreSQL
 * only one process sweeps at a time. Errors are reported and the loop carries on.
 *
 * Audit. Each batch of ended runs deleted under a policy is recorded as `retention.delete`
 * (status, age, count, the process as `instance`, when the sweep started); a sweep that
 * deleted any then records `retention.sweep` in each such organization with its instance,
 * start, end and count, still under the job lock — so two processes' spans never overlap.
 */
import { TERMINAL_STATUSES } from "../core/run-lifecycle.js";
import { yieldToEventLoop } from "../core/yield.js";
import { audit, defaultInstance } from "../services/audit.js";
import type { Store } from "../store/store.js";
import { NO_TELEMETRY, type Telemetry } from "../core/telemetry.js";

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  intervalMs: number;
  /** Days a soft-deleted run is kept where the organization's policy does not say. */
  defaultGraceDays: number;
  batchSize?: number;
  onError?: (error: unknown) => void;
  /** Hears how many runs each batch deleted (default: nobody). */
  telemetry?: Telemetry;
  /** Names this process in the audit log (default: host and pid). */
  instance?: string;
}

export interface RetentionCounts {
  expired: number;
  purged: number;
}

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> = Promise.resolve();
  private running = false;

  constructor(private readonly store: Store, private readonly options: RetentionOptions) {}

  /** One full pass; `onProgress` hears the running totals after every batch. */
  async sweep(now = new Date(), onProgress?: (counts: RetentionCounts) => void): Promise<RetentionCounts> {
    const result = await this.store.withJobLock("retention", () => this.pass(now, onProgress));
    return result.acquired ? result.value : { expired: 0, purged: 0 };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = () => {
      this.current = this.sweep()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          if (this.running) this.timer = setTimeout(tick, this.options.intervalMs).unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.current;
  }

  private async pass(now: Date, onProgress?: (counts: RetentionCounts) => void): Promise<RetentionCounts> {
    const batch = this.options.batchSize ?? 500;
    const counts: RetentionCounts = { expired: 0, purged: 0 };
    const span = { instance: this.options.instance ?? defaultInstance(), started_at: new Date().toISOString() };
    const deletedIn = new Map<string, number>();
    const policies = await this.store.read.retention.all();
    const drain = async (step: () => Promise<number>, kind: keyof RetentionCounts) => {
      for (;;) {
        await yieldToEventLoop();
        const deleted = await step();
        counts[kind] += deleted;
        if (deleted > 0) {
          (this.options.telemetry ?? NO_TELEMETRY).runsDeleted(kind, deleted);
          onProgress?.({ ...counts });
        }
        if (deleted < batch) return;
      }
    };
    for (const policy of policies) {
      for (const status of TERMINAL_STATUSES) {
        const days = policy.status_days[status] ?? policy.terminal_days;
        if (days == null) continue;
        const before = new Date(now.getTime() - days * DAY_MS).toISOString();
        const start = counts.expired;
        await drain(() => this.store.transaction((tx) => tx.retention.deleteEnded(policy.organization_id, status, before, batch)), "expired");
        if (counts.expired > start) {
          const runs = counts.expired - start;
          deletedIn.set(policy.organization_id, (deletedIn.get(policy.organization_id) ?? 0) + runs);
          await this.store.transaction((tx) =>
            audit(tx, { organization_id: policy.organization_id }, "retention.delete", {
              details: { status, older_than_days: days, runs, instance: span.instance, sweep_started_at: span.started_at },
            }),
          );
        }
      }
      if (policy.soft_deleted_grace_days != null) {
        const before = new Date(now.getTime() - policy.soft_deleted_grace_days * DAY_MS).toISOString();
        await drain(() => this.store.transaction((tx) => tx.retention.purgeDeleted(before, batch, policy.organization_id)), "purged");
      }
    }
    // Organizations without their own grace period use the server's.
    const custom = new Set(policies.filter((p) => p.soft_deleted_grace_days != null).map((p) => p.organization_id));
    const before = new Date(now.getTime() - this.options.defaultGraceDays * DAY_MS).toISOString();
    if (custom.size === 0) {
      await drain(() => this.store.transaction((tx) => tx.retention.purgeDeleted(before, batch)), "purged");
    } else {
      const orgs = await this.store.read.organizations.list();
      for (const org of orgs.filter((o) => !custom.has(o.id))) {
        await drain(() => this.store.transaction((tx) => tx.retention.purgeDeleted(before, batch, org.id)), "purged");
      }
    }
    if (deletedIn.size > 0) {
      const finished_at = new Date().toISOString();
      await this.store.transaction(async (tx) => {
        for (const [organization_id, runs] of deletedIn) await audit(tx, { organization_id }, "retention.sweep", { details: { ...span, finished_at, runs } });
      });
    }
    return counts;
  }
}
