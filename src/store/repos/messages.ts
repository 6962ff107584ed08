import type { LettaMessage, MessageType } from "../../core/letta-messages.js";
import type { Executor, SqlParam } from "../executor.js";
import { applyOrder, planPage, type PageRequest } from "../pagination.js";
import { json, param, placeholders } from "../sql-values.js";

export interface MessageRow {
  message: LettaMessage;
  agent_id: string;
  organization_id: string;
  created_at: string;
}

const KEYSET = { columns: ["m.sequence_id"] };
/** SQLite allows 32,766 bound values; 9 a row keeps a batch well inside that. */
const ROWS_PER_INSERT = 500;

export class MessageRepo {
  constructor(private readonly db: Executor) {}

  /**
   * Inserts the rows whose ids are free and returns the ids of those it inserted; a caller
   * that needs all or nothing compares the count and rolls the batch back. A concurrent
   * insert of the same id waits for the other transaction and then reports the id taken.
   */
  async insertMany(rows: readonly MessageRow[]): Promise<string[]> {
    const inserted: string[] = [];
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      const chunk = rows.slice(start, start + ROWS_PER_INSERT);
      const params: SqlParam[] = [];
      for (const { message, agent_id, organization_id, created_at } of chunk) {
        params.push(
          message.id, message.run_id, message.step_id, agent_id, organization_id, message.seq_id, message.message_type,
          created_at, param(message),
        );
      }
      const landed = await this.db.all<{ id: string }>(
        `INSERT INTO messages (id, run_id, step_id, agent_id, organization_id, sequence_id, message_type, created_at, body)
         VALUES ${chunk.map(() => `(${placeholders(9)})`).join(", ")}
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        params,
      );
      for (const row of landed) inserted.push(row.id);
    }
    return inserted;
  }

  /** The given ids that name messages of the organization. */
  async existingIds(organizationId: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.all<{ id: string }>(
      `SELECT id FROM messages WHERE organization_id = ? AND id IN (${placeholders(ids.length)})`,
      [organizationId, ...ids],
    );
    return rows.map((r) => r.id);
  }

  async cursor(organizationId: string, runId: string, id: string): Promise<SqlParam[] | undefined> {
    const row = await this.db.get<{ sequence_id: number }>(
      "SELECT sequence_id FROM messages WHERE id = ? AND run_id = ? AND organization_id = ?",
      [id, runId, organizationId],
    );
    return row && [Number(row.sequence_id)];
  }

  async list(organizationId: string, runId: string, messageTypes: readonly MessageType[] | undefined, page: PageRequest): Promise<LettaMessage[]> {
    const conditions = ["m.run_id = ?", "m.organization_id = ?"];
    const params: SqlParam[] = [runId, organizationId];
    if (messageTypes !== undefined && messageTypes.length > 0) {
      conditions.push(`m.message_type IN (${placeholders(messageTypes.length)})`);
      params.push(...messageTypes);
    }
    const plan = planPage(KEYSET, page);
    if (plan.where) {
      conditions.push(plan.where);
      params.push(...plan.params);
    }
    const rows = await this.db.all<{ body: unknown }>(
      `SELECT m.body FROM messages m WHERE ${conditions.join(" AND ")} ORDER BY ${plan.orderBy} LIMIT ?`,
      [...params, plan.limit],
    );
    return applyOrder(rows, plan).map((r) => json<LettaMessage>(r.body));
  }
}
