import type { RunEvent } from "../../core/model.js";
import type { RunStatus } from "../../core/run-lifecycle.js";
import type { RunNotice } from "../../core/run-notice.js";
import { type Dialect, type Executor, type SqlParam, write } from "../executor.js";
import { json, param, placeholders } from "../sql-values.js";

const ROWS_PER_INSERT = 1000;

/** Filters of the organization-wide event feed, applied to each event's run as it is now. */
export interface EventFeedFilter {
  agent_ids?: readonly string[];
  statuses?: readonly RunStatus[];
  tags?: readonly string[];
}

export class RunEventRepo {
  /**
   * @param notices collects, per transaction, what subscribers must hear about once it
   *   commits (the store announces them after the commit; on PostgreSQL to every process).
   */
  constructor(private readonly db: Executor, private readonly dialect: Dialect, private readonly notices: RunNotice[]) {}

  async insertMany(organizationId: string, events: readonly RunEvent[]): Promise<void> {
    if (events.length === 0) return;
    const last = events.reduce((a, b) => (b.seq_id > a.seq_id ? b : a));
    const notice = { organization_id: organizationId, run_id: last.run_id, seq_id: last.seq_id };
    this.notices.push(notice);
    for (let start = 0; start < events.length; start += ROWS_PER_INSERT) {
      const chunk = events.slice(start, start + ROWS_PER_INSERT);
      const params: SqlParam[] = [];
      for (const e of chunk) params.push(e.run_id, e.seq_id, organizationId, e.kind, param(e.event), e.created_at);
      const insert = `INSERT INTO run_events (run_id, seq_id, organization_id, kind, event, created_at)
         VALUES ${chunk.map(() => `(${placeholders(6)})`).join(", ")}`;
      await write(this.db, "run_events", insert, params);
    }
  }

  /** Events of a run with seq_id greater than `afterSeq`, oldest first. */
  async list(organizationId: string, runId: string, afterSeq: number, limit: number, kinds?: readonly RunEvent["kind"][]): Promise<RunEvent[]> {
    if (kinds !== undefined && kinds.length === 0) return [];
    const kindFilter = kinds === undefined ? "" : ` AND kind IN (${placeholders(kinds.length)})`;
    const rows = await this.db.all(
      `SELECT id, run_id, seq_id, kind, event, created_at FROM run_events
       WHERE run_id = ? AND organization_id = ? AND seq_id > ?${kindFilter} ORDER BY seq_id LIMIT ?`,
      [runId, organizationId, afterSeq, ...(kinds ?? []), limit],
    );
    return rows.map(toRunEvent);
  }

  /**
   * The organization's events with id in (afterId, upToId], oldest first; with `since`, only
   * those stored after that time (the follower's look-back for late commits).
   */
  async listForOrganization(
    organizationId: string,
    range: { afterId: number; upToId?: number; since?: string },
    filter: EventFeedFilter,
    limit: number,
  ): Promise<RunEvent[]> {
    const conditions = ["e.organization_id = ?", "e.id > ?", "r.deleted_at IS NULL"];
    const params: SqlParam[] = [organizationId, range.afterId];
    if (range.upToId !== undefined) {
      conditions.push("e.id <= ?");
      params.push(range.upToId);
    }
    if (range.since !== undefined) {
      conditions.push("e.created_at > ?");
      params.push(range.since);
    }
    if (filter.agent_ids !== undefined && filter.agent_ids.length > 0) {
      conditions.push(`r.agent_id IN (${placeholders(filter.agent_ids.length)})`);
      params.push(...filter.agent_ids);
    }
    if (filter.statuses !== undefined && filter.statuses.length > 0) {
      conditions.push(`r.status IN (${placeholders(filter.statuses.length)})`);
      params.push(...filter.statuses);
    }
    if (filter.tags !== undefined && filter.tags.length > 0) {
      conditions.push(this.dialect.jsonArrayHasAll("r.tags", filter.tags.length));
      params.push(...filter.tags);
    }
    const rows = await this.db.all(
      `SELECT e.id, e.run_id, e.seq_id, e.kind, e.event, e.created_at FROM run_events e JOIN runs r ON r.id = e.run_id
       WHERE ${conditions.join(" AND ")} ORDER BY e.id LIMIT ?`,
      [...params, limit],
    );
    return rows.map(toRunEvent);
  }

  /** The newest event id of the organization (where a live-only feed starts). */
  async latestId(organizationId: string): Promise<number> {
    const row = await this.db.get<{ id: number | null }>("SELECT max(id) AS id FROM run_events WHERE organization_id = ?", [organizationId]);
    return Number(row?.id ?? 0);
  }
}

function toRunEvent(row: Record<string, unknown>): RunEvent {
  return {
    id: Number(row.id),
    run_id: row.run_id as string,
    seq_id: Number(row.seq_id),
    kind: row.kind as RunEvent["kind"],
    event: json(row.event),
    created_at: row.created_at as string,
  };
}
