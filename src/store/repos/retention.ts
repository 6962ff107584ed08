import type { TerminalStatus } from "../../core/run-lifecycle.js";
import type { Executor } from "../executor.js";
import { json, param } from "../sql-values.js";

export interface RetentionPolicy {
  /** Delete ended runs this many days after they ended; null keeps them. */
  terminal_days: number | null;
  /** Per-status overrides of terminal_days. */
  status_days: Partial<Record<TerminalStatus, number>>;
  /** Purge soft-deleted runs this many days after deletion; null uses the server default. */
  soft_deleted_grace_days: number | null;
  updated_at: string;
}

export class RetentionRepo {
  constructor(private readonly db: Executor) {}

  async get(organizationId: string): Promise<RetentionPolicy | undefined> {
    const row = await this.db.get("SELECT terminal_days, status_days, soft_deleted_grace_days, updated_at FROM retention_policies WHERE organization_id = ?", [
      organizationId,
    ]);
    return row && toPolicy(row);
  }

  async put(organizationId: string, policy: RetentionPolicy): Promise<void> {
    await this.db.run(
      `INSERT INTO retention_policies (organization_id, terminal_days, status_days, soft_deleted_grace_days, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (organization_id) DO UPDATE SET terminal_days = excluded.terminal_days, status_days = excluded.status_days,
         soft_deleted_grace_days = excluded.soft_deleted_grace_days, updated_at = excluded.updated_at`,
      [organizationId, policy.terminal_days, param(policy.status_days), policy.soft_deleted_grace_days, policy.updated_at],
    );
  }

  async all(): Promise<(RetentionPolicy & { organization_id: string })[]> {
    const rows = await this.db.all("SELECT organization_id, terminal_days, status_days, soft_deleted_grace_days, updated_at FROM retention_policies");
    return rows.map((row) => ({ organization_id: row.organization_id as string, ...toPolicy(row) }));
  }

  /** Deletes up to `limit` of the organization's runs in `status` that ended before `before`; returns how many. */
  async deleteEnded(organizationId: string, status: TerminalStatus, before: string, limit: number): Promise<number> {
    return this.db.run(
      `DELETE FROM runs WHERE id IN (
         SELECT id FROM runs WHERE organization_id = ? AND completed_at IS NOT NULL AND completed_at < ? AND status = ? LIMIT ?
       )`,
      [organizationId, before, status, limit],
    );
  }

  /** Purges up to `limit` runs soft-deleted before `before` (in `organizationId`, or any). */
  async purgeDeleted(before: string, limit: number, organizationId?: string): Promise<number> {
    return this.db.run(
      `DELETE FROM runs WHERE id IN (
         SELECT id FROM runs WHERE deleted_at IS NOT NULL AND deleted_at < ?${organizationId === undefined ? "" : " AND organization_id = ?"} LIMIT ?
       )`,
      organizationId === undefined ? [before, limit] : [before, organizationId, limit],
    );
  }
}

function toPolicy(row: Record<string, unknown>): RetentionPolicy {
  return {
    terminal_days: row.terminal_days === null ? null : Number(row.terminal_days),
    status_days: json(row.status_days),
    soft_deleted_grace_days: row.soft_deleted_grace_days === null ? null : Number(row.soft_deleted_grace_days),
    updated_at: row.updated_at as string,
  };
}
