import type { ApiKey, Role } from "../../core/model.js";
import type { Executor } from "../executor.js";
import { bool } from "../sql-values.js";

export class ApiKeyRepo {
  constructor(private readonly db: Executor) {}

  async insert(key: ApiKey & { secret_hash: string }): Promise<void> {
    await this.db.run(
      `INSERT INTO api_keys (id, organization_id, name, role, is_superuser, prefix, secret_hash, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [key.id, key.organization_id, key.name, key.role, key.is_superuser, key.prefix, key.secret_hash, key.created_at],
    );
  }

  async getByPrefix(prefix: string): Promise<(ApiKey & { secret_hash: string }) | undefined> {
    const row = await this.db.get("SELECT * FROM api_keys WHERE prefix = ?", [prefix]);
    return row && { ...toApiKey(row), secret_hash: row.secret_hash as string };
  }

  async get(organizationId: string, id: string): Promise<ApiKey | undefined> {
    const row = await this.db.get("SELECT * FROM api_keys WHERE id = ? AND organization_id = ?", [id, organizationId]);
    return row && toApiKey(row);
  }

  async getAny(id: string): Promise<ApiKey | undefined> {
    const row = await this.db.get("SELECT * FROM api_keys WHERE id = ?", [id]);
    return row && toApiKey(row);
  }

  async list(organizationId: string): Promise<ApiKey[]> {
    return (await this.db.all("SELECT * FROM api_keys WHERE organization_id = ? ORDER BY created_at, id", [organizationId])).map(toApiKey);
  }

  async count(): Promise<number> {
    const row = await this.db.get<{ n: number }>("SELECT count(*) AS n FROM api_keys");
    return Number(row?.n ?? 0);
  }

  async revoke(organizationId: string, id: string, at: string): Promise<ApiKey | undefined> {
    const row = await this.db.get(
      "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND organization_id = ? RETURNING *",
      [at, id, organizationId],
    );
    return row && toApiKey(row);
  }

  async touch(id: string, at: string): Promise<void> {
    await this.db.run("UPDATE api_keys SET last_used_at = ? WHERE id = ?", [at, id]);
  }
}

function toApiKey(row: Record<string, unknown>): ApiKey {
  return {
    id: row.id as string,
    organization_id: row.organization_id as string,
    name: row.name as string,
    role: row.role as Role,
    is_superuser: bool(row.is_superuser),
    prefix: row.prefix as string,
    created_at: row.created_at as string,
    last_used_at: (row.last_used_at as string | null) ?? null,
    revoked_at: (row.revoked_at as string | null) ?? null,
  };
}
