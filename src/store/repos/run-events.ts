import type { RunEvent } from "../../core/model.js";
import type { Executor, SqlParam } from "../executor.js";
import { json, param, placeholders } from "../sql-values.js";

const ROWS_PER_INSERT = 1000;

export class RunEventRepo {
  constructor(private readonly db: Executor) {}

  async insertMany(organizationId: string, events: readonly RunEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += ROWS_PER_INSERT) {
      const chunk = events.slice(start, start + ROWS_PER_INSERT);
      const params: SqlParam[] = [];
      for (const e of chunk) params.push(e.run_id, e.seq_id, organizationId, e.kind, param(e.event), e.created_at);
      await this.db.run(
        `INSERT INTO run_events (run_id, seq_id, organization_id, kind, event, created_at)
         VALUES ${chunk.map(() => `(${placeholders(6)})`).join(", ")}`,
        params,
      );
    }
  }

  /** Events of a run with seq_id greater than `afterSeq`, oldest first. */
  async list(organizationId: string, runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
    const rows = await this.db.all(
      "SELECT run_id, seq_id, kind, event, created_at FROM run_events WHERE run_id = ? AND organization_id = ? AND seq_id > ? ORDER BY seq_id LIMIT ?",
      [runId, organizationId, afterSeq, limit],
    );
    return rows.map((row) => ({
      run_id: row.run_id as string,
      seq_id: Number(row.seq_id),
      kind: row.kind as RunEvent["kind"],
      event: json(row.event),
      created_at: row.created_at as string,
    }));
  }
}
