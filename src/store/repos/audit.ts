import { type Executor, type SqlParam, write } from "../executor.js";
import { jsonOrNull, param } from "../sql-values.js";

export interface AuditEntry {
  id: number;
  api_key_id: string | null;
  action: string;
  run_id: string | null;
  target_id: string | null;
  details: Record<string, unknown> | null;
  created_at: string;
}

export interface AuditFilter {
  action?: string;
  run_id?: string;
  api_key_id?: string;
  since?: string;
  until?: string;
}

export class AuditRepo {
  constructor(private readonly db: Executor) {}

  async record(organizationId: string, entry: Omit<AuditEntry, "id">): Promise<void> {
    await write(
      this.db,
      "audit_log",
      "INSERT INTO audit_log (organization_id, api_key_id, action, run_id, target_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [organizationId, entry.api_key_id, entry.action, entry.run_id, entry.target_id, param(entry.details), entry.created_at],
    );
  }

  /** Newest first; `before` is the id of the last entry of the previous page. */
  async list(organizationId: string, filter: AuditFilter, before: number | undefined, limit: number): Promise<AuditEntry[]> {
    const conditions = ["organization_id = ?"];
    const params: SqlParam[] = [organizationId];
    const add = (sql: string, value: SqlParam) => {
      conditions.push(sql);
      params.push(value);
    };
    if (filter.action !== undefined) add("action = ?", filter.action);
    if (filter.run_id !== undefined) add("run_id = ?", filter.run_id);
    if (filter.api_key_id !== undefined) add("api_key_id = ?", filter.api_key_id);
    if (filter.since !== undefined) add("created_at >= ?", filter.since);
    if (filter.until !== undefined) add("created_at <= ?", filter.until);
    if (before !== undefined) add("id < ?", before);
    const rows = await this.db.all(`SELECT * FROM audit_log WHERE ${conditions.join(" AND ")} ORDER BY id DESC LIMIT ?`, [...params, limit]);
    return rows.map((row) => ({
      id: Number(row.id),
      api_key_id: (row.api_key_id as string | null) ?? null,
      action: row.action as string,
      run_id: (row.run_id as string | null) ?? null,
      target_id: (row.target_id as string | null) ?? null,
      details: jsonOrNull(row.details),
      created_at: row.created_at as string,
    }));
  }
}
