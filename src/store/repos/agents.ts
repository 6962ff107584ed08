import type { StopReason } from "../../core/run-lifecycle.js";
import type { Agent, JsonObject } from "../../core/model.js";
import { type Executor, type SqlParam, write } from "../executor.js";
import { applyOrder, planPage, type PageRequest } from "../pagination.js";
import { json, param, setClause } from "../sql-values.js";
import { numberOrNull } from "./runs.js";

const KEYSET = { columns: ["created_at", "id"] };

export class AgentRepo {
  constructor(private readonly db: Executor) {}

  /** False when the id is already taken. */
  async insert(agent: Agent & { organization_id: string }): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO agents (id, organization_id, name, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      [agent.id, agent.organization_id, agent.name, param(agent.metadata), agent.created_at, agent.updated_at],
    );
    return changed === 1;
  }

  async get(organizationId: string, id: string): Promise<Agent | undefined> {
    const row = await this.db.get("SELECT * FROM agents WHERE id = ? AND organization_id = ?", [id, organizationId]);
    return row && toAgent(row);
  }

  async update(organizationId: string, id: string, set: Partial<Omit<Agent, "id" | "created_at">>): Promise<Agent | undefined> {
    const clause = setClause(set);
    const row = await this.db.get(`UPDATE agents SET ${clause.sql} WHERE id = ? AND organization_id = ? RETURNING *`, [
      ...clause.params,
      id,
      organizationId,
    ]);
    return row && toAgent(row);
  }

  async recordRunEnd(agentId: string, stopReason: StopReason, completedAt: string, durationMs: number | null): Promise<void> {
    await write(this.db, "agents", "UPDATE agents SET last_stop_reason = ?, last_run_completion = ?, last_run_duration_ms = ? WHERE id = ?", [
      stopReason,
      completedAt,
      durationMs,
      agentId,
    ]);
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db.run("DELETE FROM agents WHERE id = ? AND organization_id = ?", [id, organizationId])) === 1;
  }

  async cursor(organizationId: string, id: string): Promise<SqlParam[] | undefined> {
    const row = await this.db.get<{ created_at: string; id: string }>("SELECT created_at, id FROM agents WHERE id = ? AND organization_id = ?", [
      id,
      organizationId,
    ]);
    return row && [row.created_at, row.id];
  }

  async list(organizationId: string, name: string | undefined, page: PageRequest): Promise<Agent[]> {
    const conditions = ["organization_id = ?"];
    const params: SqlParam[] = [organizationId];
    if (name !== undefined) {
      conditions.push("name = ?");
      params.push(name);
    }
    const plan = planPage(KEYSET, page);
    if (plan.where) {
      conditions.push(plan.where);
      params.push(...plan.params);
    }
    const rows = await this.db.all(`SELECT * FROM agents WHERE ${conditions.join(" AND ")} ORDER BY ${plan.orderBy} LIMIT ?`, [
      ...params,
      plan.limit,
    ]);
    return applyOrder(rows, plan).map(toAgent);
  }
}

function toAgent(row: Record<string, unknown>): Agent {
  return {
    id: row.id as string,
    name: row.name as string,
    metadata: json<JsonObject>(row.metadata),
    created_at: row.created_at as string,
    updated_at: row.updated_at as string,
    last_stop_reason: (row.last_stop_reason as StopReason | null) ?? null,
    last_run_completion: (row.last_run_completion as string | null) ?? null,
    last_run_duration_ms: numberOrNull(row.last_run_duration_ms),
  };
}
